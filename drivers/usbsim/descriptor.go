package usbsim

import "fmt"

// TransferType is an endpoint's transfer type (bmAttributes & 3,
// USB_ENDPOINT_XFER_*).
type TransferType uint8

// Transfer types.
const (
	Control     TransferType = 0 // USB_ENDPOINT_XFER_CONTROL
	Isochronous TransferType = 1 // USB_ENDPOINT_XFER_ISOC
	Bulk        TransferType = 2 // USB_ENDPOINT_XFER_BULK
	Interrupt   TransferType = 3 // USB_ENDPOINT_XFER_INT
)

// String names the type as the kernel's usb_ep_type_string does.
func (t TransferType) String() string {
	switch t {
	case Control:
		return "ctrl"
	case Isochronous:
		return "isoc"
	case Bulk:
		return "bulk"
	case Interrupt:
		return "int"
	}
	return "type?"
}

// DirIn is USB_DIR_IN, the direction bit of an endpoint address.
const DirIn = 0x80

// Device classes used by the model (bDeviceClass / bInterfaceClass).
const (
	ClassPerInterface = 0x00 // USB_CLASS_PER_INTERFACE
	ClassHub          = 0x09 // USB_CLASS_HUB
	ClassVendorSpec   = 0xff // USB_CLASS_VENDOR_SPEC
)

// EndpointDescriptor is struct usb_endpoint_descriptor.
type EndpointDescriptor struct {
	// Address is bEndpointAddress: number in bits 0..3, DirIn for IN.
	Address uint8
	// Type is the transfer type.
	Type TransferType
	// MaxPacket is wMaxPacketSize.
	MaxPacket int
}

// In reports an IN (device-to-host) endpoint (usb_endpoint_dir_in).
func (e EndpointDescriptor) In() bool { return e.Address&DirIn != 0 }

// Number is the endpoint number (usb_endpoint_num).
func (e EndpointDescriptor) Number() int { return int(e.Address & 0x0f) }

// IsBulkIn is usb_endpoint_is_bulk_in.
func (e EndpointDescriptor) IsBulkIn() bool { return e.Type == Bulk && e.In() }

// IsBulkOut is usb_endpoint_is_bulk_out.
func (e EndpointDescriptor) IsBulkOut() bool { return e.Type == Bulk && !e.In() }

// IsIntIn is usb_endpoint_is_int_in.
func (e EndpointDescriptor) IsIntIn() bool { return e.Type == Interrupt && e.In() }

// String renders the endpoint as "ep81 bulk-in".
func (e EndpointDescriptor) String() string {
	dir := "out"
	if e.In() {
		dir = "in"
	}
	return fmt.Sprintf("ep%02x %s-%s", e.Address, e.Type, dir)
}

// InterfaceDescriptor is struct usb_interface_descriptor with its endpoints
// (alternate setting 0 of struct usb_host_interface).
type InterfaceDescriptor struct {
	// Number is bInterfaceNumber.
	Number uint8
	// Class, SubClass and Protocol are bInterfaceClass, bInterfaceSubClass
	// and bInterfaceProtocol.
	Class, SubClass, Protocol uint8
	// Endpoints are the interface's endpoints (ep0 excluded).
	Endpoints []EndpointDescriptor
}

// DeviceDescriptor is struct usb_device_descriptor (the fields matching
// uses).
type DeviceDescriptor struct {
	// VendorID and ProductID are idVendor and idProduct.
	VendorID, ProductID uint16
	// BcdDevice is the device release number.
	BcdDevice uint16
	// Class, SubClass and Protocol are bDeviceClass, bDeviceSubClass and
	// bDeviceProtocol.
	Class, SubClass, Protocol uint8
}

// ConfigDescriptor is the active configuration (struct
// usb_host_config): its bConfigurationValue and its interfaces.
type ConfigDescriptor struct {
	// Value is bConfigurationValue; 0 is taken as 1.
	Value uint8
	// Interfaces are the configuration's interfaces, in order.
	Interfaces []InterfaceDescriptor
}
