"""The survey lifecycle shared by every channel: triggers, batches, their lifecycle,
messages, opt-outs, consent, first answers and the flow versions surveys run on."""
