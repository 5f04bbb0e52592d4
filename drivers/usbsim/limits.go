package usbsim

// The USB core's limits on topology, the kernel's constants. Every entry
// point that takes a port count, plugs a hub or adds a bus checks them, so
// that no input makes the model allocate without bound.
const (
	// MaxChildren is USB_MAXCHILDREN: the most downstream ports a hub may
	// have (31: a hub's status-change bitmap has one bit per port and bit
	// 0 for the hub itself). hub_configure refuses a hub that reports more
	// ("hub has too many ports!") or none, and AddHCD refuses a root hub
	// outside 1..MaxChildren.
	MaxChildren = 31
	// MaxTopoLevel is MAX_TOPO_LEVEL: the deepest a hub may sit. The root
	// hub is level 0, a device on one of its ports level 1; hub_probe
	// refuses a hub at this level with -E2BIG ("hub nested too deep"), so
	// the chain below a root hub holds at most five external hubs, as USB
	// 2.0 allows.
	MaxTopoLevel = 6
	// MaxBus is USB_MAXBUS: bus numbers are 1..MaxBus-1, the lowest free
	// one given to each new host controller (usb_register_bus's IDR) and
	// freed again when it is removed (usb_deregister_bus).
	MaxBus = 64
	// maxHubPorts is the largest port count a hub descriptor can state
	// (bNbrPorts is one byte): a gadget claiming more, or fewer than zero,
	// is not a USB device at all, and Plug refuses it.
	maxHubPorts = 255
)
