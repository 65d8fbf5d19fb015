"""Candidate retrieval: FAISS indexes over item vectors and candidate generators."""
