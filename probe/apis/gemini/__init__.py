"""Google Gemini API: generateContent, streamGenerateContent and countTokens."""
