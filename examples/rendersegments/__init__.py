"""rendersegments - the modules of examples/render-segments (plan, render,
join and what they share, in common)."""
