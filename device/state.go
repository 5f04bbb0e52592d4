package device

// State is where a device is in its lifecycle. The kernel spreads this over
// several fields (kobj.state_in_sysfs, p->dead, dev->driver, the probing
// flags); drvsim keeps one queryable value.
type State int32

// Device states, in lifecycle order.
const (
	// StateNew: allocated by New, not yet initialized.
	StateNew State = iota
	// StateInitialized: after device_initialize; holds one reference.
	StateInitialized
	// StateAdded: after device_add; registered and visible, no driver.
	StateAdded
	// StateProbing: really_probe is running a driver's probe.
	StateProbing
	// StateBound: a driver is bound (driver_bound ran).
	StateBound
	// StateUnbinding: __device_release_driver is running.
	StateUnbinding
	// StateRemoved: after device_del; dead, waiting for its last put_device.
	StateRemoved
)

var stateNames = [...]string{"new", "initialized", "added", "probing", "bound", "unbinding", "removed"}

// String returns the state's lower-case name, e.g. "bound".
func (s State) String() string {
	if s >= 0 && int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "invalid"
}
