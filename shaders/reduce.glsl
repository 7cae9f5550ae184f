// reduce.glsl - included by the kernels that reduce: a deterministic
// workgroup sum (or max) of one float per invocation through shared
// memory; invocation 0 gets the result.  Workgroups are 256 wide and the
// host folds the per-workgroup partials in double precision.
shared float red[256];

float
wg_reduce (float v, bool take_max)
{
  uint l = gl_LocalInvocationID.x;
  red[l] = v;
  barrier ();
  for (uint s = 128u; s > 0u; s >>= 1) {
    if (l < s)
      red[l] = take_max ? max (red[l], red[l + s]) : red[l] + red[l + s];
    barrier ();
  }
  return red[0];
}
