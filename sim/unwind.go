package sim

// EnvUnwind marks the abort sentinel as a simulator's unwind for
// env.Unwinding: code that recovers panics (the driver core's oops
// handling) panics again with it, so that a task of a failed run unwinds.
func (abortSentinel) EnvUnwind() {}
