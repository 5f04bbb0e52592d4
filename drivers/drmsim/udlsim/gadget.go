package udlsim

import (
	"sync"

	"github.com/drvsim/drvsim/drivers/usbsim"
)

// DisplayLink's ids: the vendor id udl matches, with the vendor-specific
// interface class 0xff, subclass 0, protocol 0.
const (
	VendorID  = 0x17e9 // DisplayLink
	ProductID = 0x0103 // a DL-1x5 adapter
)

// BulkOut is the endpoint the driver streams framebuffer lines to.
const BulkOut = 0x01

// IDTable is udl's id_table: vendor DisplayLink, interface 0xff/0/0.
func IDTable() []usbsim.DeviceID {
	return []usbsim.DeviceID{{
		Flags:    usbsim.MatchVendor | usbsim.MatchIntInfo,
		VendorID: VendorID, IntClass: usbsim.ClassVendorSpec,
	}}
}

// Gadget returns a DisplayLink adapter whose firmware is disp: a
// vendor-specific device with one interface (class 0xff) holding a bulk
// OUT endpoint.
func Gadget(disp *Display) *usbsim.Gadget {
	return &usbsim.Gadget{
		Desc: usbsim.DeviceDescriptor{VendorID: VendorID, ProductID: ProductID, Class: usbsim.ClassPerInterface},
		Config: usbsim.ConfigDescriptor{Value: 1, Interfaces: []usbsim.InterfaceDescriptor{{
			Number: 0, Class: usbsim.ClassVendorSpec,
			Endpoints: []usbsim.EndpointDescriptor{{Address: BulkOut, Type: usbsim.Bulk, MaxPacket: 512}},
		}}},
		Function: disp,
	}
}

// Display is the adapter's firmware (a usbsim.Function): it accepts every
// bulk OUT transfer and counts what reached the screen.
type Display struct {
	mu    sync.Mutex
	lines int
	bytes int
}

// NewDisplay returns a display that has received nothing.
func NewDisplay() *Display { return &Display{} }

// Transfer answers a transfer: a bulk OUT is a rendered line.
func (d *Display) Transfer(t *usbsim.Transfer) bool {
	d.mu.Lock()
	d.lines++
	d.bytes += len(t.Data)
	d.mu.Unlock()
	t.Actual = len(t.Data)
	return true
}

// Lines returns how many line transfers reached the display.
func (d *Display) Lines() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.lines
}

// Bytes returns how many bytes reached the display.
func (d *Display) Bytes() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.bytes
}
