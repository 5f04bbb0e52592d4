package srcu

import _ "unsafe" // go:linkname

// The reader slots of a PerCPU are chosen by the calling goroutine's P,
// the Go scheduler's processor: the closest thing Go has to the CPU whose
// srcu_data a kernel reader counts on (this_cpu_inc). The runtime exports
// procPin and procUnpin for that use (sync.Pool's per-P pools rest on
// them; the runtime keeps them reachable through go:linkname, see
// go.dev/issue/67401).

//go:linkname procPin runtime.procPin
func procPin() int

//go:linkname procUnpin runtime.procUnpin
func procUnpin()

// cpu returns the id of the P the calling goroutine runs on now. The
// goroutine may be moved to another P right after: like a kernel reader
// preempted between this_cpu_ptr and its increment, it then counts on
// another P's slot, which costs a shared cache line and nothing else (the
// Guard remembers the slot it counted on).
func cpu() int {
	p := procPin()
	procUnpin()
	return p
}
