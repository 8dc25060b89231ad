"""The mandate: who may contribute, the ceilings, and the term with its automatic renewal."""
