"""Taking a round: the quiz page, saving, submitting, the result."""
