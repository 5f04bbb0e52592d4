package kernel

// Fault points of the kernel library: a simulator's fault rules
// (sim.FaultRule) make these allocations fail with device.ErrNoMemory (-ENOMEM).
const (
	FaultAllocWorkqueue = "alloc_workqueue"
	FaultRequestIRQ     = "request_irq"
)
