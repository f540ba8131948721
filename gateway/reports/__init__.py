"""Results for agencies: the A-11 Section 280 quarterly report and its queries."""
