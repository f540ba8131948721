"""The survey lifecycle shared by every channel: triggers, batches, conversations,
messages, opt-outs, consent, first answers and the flow versions surveys run on."""
