"""Respondents' personal data: contacts sealed and hashed, erased after a survey closes."""
