package usbsim

// State is a usb_device's state (enum usb_device_state).
type State int

// Device states, in the order a device meets them.
const (
	StateNotAttached State = iota // USB_STATE_NOTATTACHED: gone; submissions fail with -ENODEV
	StateAttached                 // USB_STATE_ATTACHED
	StateDefault                  // USB_STATE_DEFAULT: reset, address 0
	StateAddress                  // USB_STATE_ADDRESS: has its address, not configured
	StateConfigured               // USB_STATE_CONFIGURED
	StateSuspended                // USB_STATE_SUSPENDED
)

// String is usb_state_string.
func (s State) String() string {
	switch s {
	case StateNotAttached:
		return "not attached"
	case StateAttached:
		return "attached"
	case StateDefault:
		return "default"
	case StateAddress:
		return "addressed"
	case StateConfigured:
		return "configured"
	case StateSuspended:
		return "suspended"
	}
	return "state?"
}

// Condition is a usb_interface's binding state (enum
// usb_interface_condition).
type Condition int

// Interface conditions.
const (
	Unbound   Condition = iota // USB_INTERFACE_UNBOUND
	Binding                    // USB_INTERFACE_BINDING: probe running
	Bound                      // USB_INTERFACE_BOUND
	Unbinding                  // USB_INTERFACE_UNBINDING: disconnect running
)

// String names the condition.
func (c Condition) String() string {
	switch c {
	case Unbound:
		return "unbound"
	case Binding:
		return "binding"
	case Bound:
		return "bound"
	case Unbinding:
		return "unbinding"
	}
	return "condition?"
}
