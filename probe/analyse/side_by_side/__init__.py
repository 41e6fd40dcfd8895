"""Agents side by side on one scenario: each run's figures as its report gives them, and what only one agent has."""
