package usbsim_test

import (
	"testing"

	"github.com/drvsim/drvsim/drivers/usbsim"
	"github.com/stretchr/testify/assert"
)

func TestMatchID(t *testing.T) {
	dev := usbsim.DeviceDescriptor{VendorID: 0x1234, ProductID: 0x5678, BcdDevice: 0x0100, Class: usbsim.ClassPerInterface}
	vendorDev := dev
	vendorDev.Class = usbsim.ClassVendorSpec
	intf := usbsim.InterfaceDescriptor{Number: 1, Class: 0x03, SubClass: 0x01, Protocol: 0x02}
	cases := []struct {
		name string
		id   usbsim.DeviceID
		dev  usbsim.DeviceDescriptor
		want bool
	}{
		{"USB_DEVICE", usbsim.ID(0x1234, 0x5678), dev, true},
		{"wrong product", usbsim.ID(0x1234, 0x0000), dev, false},
		{"USB_INTERFACE_INFO", usbsim.InterfaceInfo(3, 1, 2), dev, true},
		{"wrong protocol", usbsim.InterfaceInfo(3, 1, 1), dev, false},
		{"class only", usbsim.DeviceID{Flags: usbsim.MatchIntClass, IntClass: 3}, dev, true},
		{"vendor-specific device, interface class without vendor", usbsim.InterfaceInfo(3, 1, 2), vendorDev, false},
		{"vendor-specific device, vendor and interface class", usbsim.DeviceID{Flags: usbsim.MatchVendor | usbsim.MatchIntClass, VendorID: 0x1234, IntClass: 3}, vendorDev, true},
		{"bcdDevice in range", usbsim.DeviceID{Flags: usbsim.MatchDevice | usbsim.MatchDevLo | usbsim.MatchDevHi,
			VendorID: 0x1234, ProductID: 0x5678, BcdDeviceLo: 0x0100, BcdDeviceHi: 0x0200}, dev, true},
		{"bcdDevice below range", usbsim.DeviceID{Flags: usbsim.MatchDevice | usbsim.MatchDevLo,
			VendorID: 0x1234, ProductID: 0x5678, BcdDeviceLo: 0x0101}, dev, false},
		{"vendor and interface number", usbsim.DeviceID{Flags: usbsim.MatchVendor | usbsim.MatchIntNumber, VendorID: 0x1234, IntNumber: 1}, dev, true},
		{"interface number with driver_info", usbsim.DeviceID{Flags: usbsim.MatchIntNumber, IntNumber: 1, DriverInfo: 1}, dev, true},
		{"vendor-specific device, interface number without vendor", usbsim.DeviceID{Flags: usbsim.MatchIntNumber, IntNumber: 1, DriverInfo: 1}, vendorDev, false},
		{"vendor-specific device, vendor and interface number", usbsim.DeviceID{Flags: usbsim.MatchVendor | usbsim.MatchIntNumber, VendorID: 0x1234, IntNumber: 1}, vendorDev, true},
		{"device class", usbsim.DeviceInfo(3, 0, 0), usbsim.DeviceDescriptor{Class: 3}, true},
		// usb_match_id stops at an entry whose idVendor, idProduct,
		// bDeviceClass, bInterfaceClass and driver_info are all zero,
		// whatever its match_flags: these entries end the table
		{"USB_DEVICE_INFO(0, 0, 0) ends the table", usbsim.DeviceInfo(0, 0, 0), dev, false},
		{"interface number only ends the table", usbsim.DeviceID{Flags: usbsim.MatchIntNumber, IntNumber: 1}, dev, false},
		{"bcdDevice range only ends the table", usbsim.DeviceID{Flags: usbsim.MatchDevLo | usbsim.MatchDevHi, BcdDeviceLo: 0x0100, BcdDeviceHi: 0x0200}, dev, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, ok := usbsim.MatchID([]usbsim.DeviceID{c.id}, c.dev, intf)
			assert.Equal(t, c.want, ok)
		})
	}
}

// usb_match_id walks the table in order and stops at the terminating
// entry.
func TestMatchIDTableOrderAndTerminator(t *testing.T) {
	dev := usbsim.DeviceDescriptor{VendorID: 1, ProductID: 2}
	intf := usbsim.InterfaceDescriptor{Class: 0xff}
	first, second := usbsim.ID(1, 2), usbsim.DeviceID{Flags: usbsim.MatchIntClass, IntClass: 0xff}
	first.DriverInfo, second.DriverInfo = "first", "second"
	id, ok := usbsim.MatchID([]usbsim.DeviceID{first, second}, dev, intf)
	assert.True(t, ok)
	assert.Equal(t, "first", id.DriverInfo)
	_, ok = usbsim.MatchID([]usbsim.DeviceID{{}, first}, dev, intf)
	assert.False(t, ok, "an empty entry ends the table")
	_, ok = usbsim.MatchID([]usbsim.DeviceID{{Flags: usbsim.MatchIntNumber}, first}, dev, intf)
	assert.False(t, ok, "flags alone do not keep an entry from ending the table")
	anyIntf := usbsim.DeviceID{DriverInfo: "any"}
	id, ok = usbsim.MatchID([]usbsim.DeviceID{anyIntf, first}, dev, intf)
	assert.True(t, ok, "an entry with only driver_info matches everything")
	assert.Equal(t, "any", id.DriverInfo)
}
