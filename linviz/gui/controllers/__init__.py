"""The window's controllers: they turn user requests into jobs and job results into workbench
changes. Views never call them; they only listen to the workbench."""
