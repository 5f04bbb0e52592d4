package usbsim

import "fmt"

// MatchFlags says which fields of a DeviceID count (match_flags,
// USB_DEVICE_ID_MATCH_*).
type MatchFlags uint16

// Match flags, the kernel's values.
const (
	MatchVendor      MatchFlags = 0x0001 // USB_DEVICE_ID_MATCH_VENDOR
	MatchProduct     MatchFlags = 0x0002 // USB_DEVICE_ID_MATCH_PRODUCT
	MatchDevLo       MatchFlags = 0x0004 // USB_DEVICE_ID_MATCH_DEV_LO
	MatchDevHi       MatchFlags = 0x0008 // USB_DEVICE_ID_MATCH_DEV_HI
	MatchDevClass    MatchFlags = 0x0010 // USB_DEVICE_ID_MATCH_DEV_CLASS
	MatchDevSubClass MatchFlags = 0x0020 // USB_DEVICE_ID_MATCH_DEV_SUBCLASS
	MatchDevProtocol MatchFlags = 0x0040 // USB_DEVICE_ID_MATCH_DEV_PROTOCOL
	MatchIntClass    MatchFlags = 0x0080 // USB_DEVICE_ID_MATCH_INT_CLASS
	MatchIntSubClass MatchFlags = 0x0100 // USB_DEVICE_ID_MATCH_INT_SUBCLASS
	MatchIntProtocol MatchFlags = 0x0200 // USB_DEVICE_ID_MATCH_INT_PROTOCOL
	MatchIntNumber   MatchFlags = 0x0400 // USB_DEVICE_ID_MATCH_INT_NUMBER

	// MatchDevice is USB_DEVICE_ID_MATCH_DEVICE: vendor and product.
	MatchDevice = MatchVendor | MatchProduct
	// MatchIntInfo is USB_DEVICE_ID_MATCH_INT_INFO: interface class,
	// subclass and protocol.
	MatchIntInfo = MatchIntClass | MatchIntSubClass | MatchIntProtocol
)

// DeviceID is one entry of a usb_driver's id table (struct usb_device_id).
type DeviceID struct {
	Flags                           MatchFlags
	VendorID, ProductID             uint16
	BcdDeviceLo, BcdDeviceHi        uint16
	DevClass, DevSubClass, DevProto uint8
	IntClass, IntSubClass, IntProto uint8
	IntNumber                       uint8
	// DriverInfo is driver_info: data handed to probe with the match.
	DriverInfo any
}

// ID is the USB_DEVICE(vendor, product) macro.
func ID(vendor, product uint16) DeviceID {
	return DeviceID{Flags: MatchDevice, VendorID: vendor, ProductID: product}
}

// InterfaceInfo is the USB_INTERFACE_INFO(class, subclass, protocol) macro.
func InterfaceInfo(class, subclass, protocol uint8) DeviceID {
	return DeviceID{Flags: MatchIntInfo, IntClass: class, IntSubClass: subclass, IntProto: protocol}
}

// DeviceInfo is the USB_DEVICE_INFO(class, subclass, protocol) macro.
func DeviceInfo(class, subclass, protocol uint8) DeviceID {
	return DeviceID{Flags: MatchDevClass | MatchDevSubClass | MatchDevProtocol,
		DevClass: class, DevSubClass: subclass, DevProto: protocol}
}

// String renders the id the way modalias-like tables print it.
func (id DeviceID) String() string {
	return fmt.Sprintf("flags=%#04x v%04xp%04x d%02x i%02x/%02x/%02x",
		uint16(id.Flags), id.VendorID, id.ProductID, id.DevClass, id.IntClass, id.IntSubClass, id.IntProto)
}

// MatchDevice is usb_match_device: whether the device-level fields of id
// that its flags select equal d's.
func (id DeviceID) MatchDevice(d DeviceDescriptor) bool {
	f := id.Flags
	switch {
	case f&MatchVendor != 0 && id.VendorID != d.VendorID,
		f&MatchProduct != 0 && id.ProductID != d.ProductID,
		f&MatchDevLo != 0 && id.BcdDeviceLo > d.BcdDevice,
		f&MatchDevHi != 0 && id.BcdDeviceHi < d.BcdDevice,
		f&MatchDevClass != 0 && id.DevClass != d.Class,
		f&MatchDevSubClass != 0 && id.DevSubClass != d.SubClass,
		f&MatchDevProtocol != 0 && id.DevProto != d.Protocol:
		return false
	}
	return true
}

// MatchInterface is usb_match_one_id_intf: the interface-level fields.
// As in the kernel, a vendor-specific device (bDeviceClass 0xff) matches
// interface class, subclass, protocol or number fields only when the entry
// also names the vendor.
func (id DeviceID) MatchInterface(d DeviceDescriptor, i InterfaceDescriptor) bool {
	f := id.Flags
	if d.Class == ClassVendorSpec && f&MatchVendor == 0 &&
		f&(MatchIntClass|MatchIntSubClass|MatchIntProtocol|MatchIntNumber) != 0 {
		return false
	}
	switch {
	case f&MatchIntClass != 0 && id.IntClass != i.Class,
		f&MatchIntSubClass != 0 && id.IntSubClass != i.SubClass,
		f&MatchIntProtocol != 0 && id.IntProto != i.Protocol,
		f&MatchIntNumber != 0 && id.IntNumber != i.Number:
		return false
	}
	return true
}

// IsTerminator reports whether id ends an id table for usb_match_id: no
// vendor, product, device class or interface class, and no DriverInfo.
func (id DeviceID) IsTerminator() bool {
	return id.VendorID == 0 && id.ProductID == 0 && id.DevClass == 0 && id.IntClass == 0 && id.DriverInfo == nil
}

// MatchOne is usb_match_one_id: id matches the interface i of a device
// described by d.
func (id DeviceID) MatchOne(d DeviceDescriptor, i InterfaceDescriptor) bool {
	return id.MatchDevice(d) && id.MatchInterface(d, i)
}

// MatchID is usb_match_id: the first entry of table that matches, walking
// the table in order. As in the kernel, the walk stops at the first entry
// whose idVendor, idProduct, bDeviceClass and bInterfaceClass are all zero
// and that has no DriverInfo (the terminating { } entry), whatever its
// flags: an entry matching only, say, an interface number or device class
// 0 ends the table unless it carries DriverInfo.
func MatchID(table []DeviceID, d DeviceDescriptor, i InterfaceDescriptor) (DeviceID, bool) {
	for _, id := range table {
		if id.IsTerminator() {
			break
		}
		if id.MatchOne(d, i) {
			return id, true
		}
	}
	return DeviceID{}, false
}
