package hidsim

import (
	"fmt"

	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/drivers/usbsim"
	"github.com/drvsim/drvsim/kernel"
)

// usbhidProbe is usbhid_probe: a hid_device for the interface
// (hid_allocate_device), with the USB ids, added to the hid bus
// (hid_add_device), where a HID driver binds it.
func (h *HID) usbhidProbe(intf *usbsim.Interface, _ usbsim.DeviceID) error {
	desc := intf.Device().Descriptor()
	hd := &Device{h: h, intf: intf, id: USBDevice(desc.VendorID, desc.ProductID)}
	name := fmt.Sprintf("%04X:%04X:%04X.%04X", BusUSB, desc.VendorID, desc.ProductID, h.nextSeq())
	hd.driverInputLock = kernel.NewMutex(h.core, "driver_input_lock "+name)
	hd.dev = device.New(name, device.WithBus(h.bus), device.WithParent(intf.Dev()), device.WithRelease(func(dev *device.Device) {
		h.mu.Lock()
		delete(h.devices, dev)
		h.mu.Unlock()
	}))
	h.mu.Lock()
	h.devices[hd.dev] = hd
	h.mu.Unlock()
	intf.SetIntfdata(hd)
	if err := h.core.RegisterDevice(hd.dev); err != nil {
		intf.SetIntfdata(nil)
		return fmt.Errorf("usbhid_probe: hid_add_device: %w", err)
	}
	return nil
}

// usbhidDisconnect is usbhid_disconnect: hid_destroy_device.
func (h *HID) usbhidDisconnect(intf *usbsim.Interface) {
	hd, _ := intf.Intfdata().(*Device)
	if hd == nil {
		return
	}
	if err := h.core.UnregisterDevice(hd.dev); err != nil {
		h.emit(hd.dev.Path(), "hid_destroy_device", device.ErrnoName(err))
	}
}

// nextSeq numbers the hid_devices (hid_add_device's id).
func (h *HID) nextSeq() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.seq++
	return h.seq
}

// usbhidStart is usbhid_start: the interrupt-in URB, filled and submitted
// (hid_start_in).
func (hd *Device) usbhidStart() error {
	u := hd.h.usb
	var in usbsim.EndpointDescriptor
	found := false
	for _, ep := range hd.intf.Endpoints() {
		if ep.IsIntIn() {
			in, found = ep, true
			break
		}
	}
	if !found {
		return fmt.Errorf("usbhid_start %s: no interrupt-in endpoint: %w", hd.dev.Name(), ErrNoDevice)
	}
	hd.inBuf = u.AllocBuffer("usbhid inbuf", in.MaxPacket)
	hd.urbIn = u.AllocURB()
	hd.urbIn.FillInt(hd.intf.Device(), in.Address, hd.inBuf, in.MaxPacket, hd.irqIn, hd)
	hd.mu.Lock()
	hd.started = true
	hd.mu.Unlock()
	if err := hd.urbIn.Submit(); err != nil {
		hd.inBuf.Free()
		return fmt.Errorf("usbhid_start: hid_start_in: %w", err)
	}
	return nil
}

// usbhidStop is usbhid_stop: the URB is killed and the buffer freed.
func (hd *Device) usbhidStop() {
	hd.mu.Lock()
	was := hd.started
	hd.started = false
	hd.mu.Unlock()
	if !was {
		return
	}
	hd.urbIn.Kill()
	hd.inBuf.Free()
}

// irqIn is hid_irq_in: a report goes to hid_input_report and the URB is
// resubmitted; an unlink or shutdown ends it.
func (hd *Device) irqIn(urb *usbsim.URB) {
	if urb.Status != nil {
		return // -ECONNRESET, -ENOENT, -ESHUTDOWN: the URB was killed or the device went
	}
	data := append([]byte(nil), urb.Buffer.Bytes("hid_irq_in: urb->transfer_buffer")[:urb.Actual]...)
	_ = hd.InputReport(data)
	hd.mu.Lock()
	started := hd.started
	hd.mu.Unlock()
	if started {
		_ = urb.Submit()
	}
}
