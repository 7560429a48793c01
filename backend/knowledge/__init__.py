"""Knowledge base: versioned articles and the in-memory search agents use while talking."""
