"""Who may do what: the three shipped groups (curator, operator, viewer) and the requeue permission."""
