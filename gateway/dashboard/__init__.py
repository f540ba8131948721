"""The staff dashboard: agencies' results, scoped to the signed-in staff member's agency."""
