"""One package per model API: its reader (requests and streams into the conversation model) and the words its
report needs; beside them, which API an exchange speaks and the turns built with its reader.
In: exchanges. Out: turns of the conversation model, and each API's report sections."""
