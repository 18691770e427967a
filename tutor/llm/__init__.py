"""LLM providers behind one small protocol: extractive (no model), openai (any compatible server), local."""
