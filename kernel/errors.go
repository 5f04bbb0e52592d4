package kernel

import "errors"

// Errors the kernel library's calls return, named after the kernel
// errnos; test them with errors.Is. A failed call leaves everything as it
// was.
var (
	// ErrInvalid is -EINVAL: an interrupt number out of range, a nil
	// handler, a shared interrupt without a dev_id, unknown flags, an
	// empty name.
	ErrInvalid = errors.New("kernel: invalid argument (-EINVAL)")
	// ErrBusy is -EBUSY: an interrupt line already taken by a handler it
	// cannot be shared with.
	ErrBusy = errors.New("kernel: device or resource busy (-EBUSY)")
	// ErrNoMemory is -ENOMEM: an allocation that failed, which happens
	// only through the simulator's fault injection (alloc_workqueue,
	// request_irq, devres).
	ErrNoMemory = errors.New("kernel: out of memory (-ENOMEM)")
)

// Fault points of the kernel library: a simulator's fault rules
// (sim.FaultRule) make these allocations fail with ErrNoMemory.
const (
	FaultAllocWorkqueue = "alloc_workqueue"
	FaultRequestIRQ     = "request_irq"
)
