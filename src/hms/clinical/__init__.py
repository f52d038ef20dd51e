"""Clinical encounters: notes, vital signs and coded diagnoses."""
