"""The survey engine: a pure function of (flow, state, event) to (state, outputs).

Nothing here imports Flask, the database or Twilio; channels render the outputs and the
service stores them.
"""
