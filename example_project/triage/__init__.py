"""A small support-ticket triage app: classify a ticket, draft a reply. Prompts live in prompts/."""
