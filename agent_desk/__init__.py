"""agent_desk package."""
