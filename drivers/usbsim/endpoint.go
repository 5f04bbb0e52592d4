package usbsim

import (
	"fmt"
	"sort"
)

// endpoint is struct usb_host_endpoint: its descriptor, whether it is
// enabled, and its queue of submitted URBs the device has not answered yet
// (ep->urb_list).
type endpoint struct {
	udev *Device
	intf *Interface // nil for ep0
	desc EndpointDescriptor

	// guarded by u.mu
	enabled    bool
	queue      []*URB
	completing int // completions running for URBs of this endpoint
}

// endpointLocked is usb_pipe_endpoint: the device's endpoint for the
// address (ep0 answers both directions), enabled or not, or nil when the
// active configuration has none (or usb_disable_device forgot it).
func (d *Device) endpointLocked(addr uint8) *endpoint {
	for _, ep := range d.eps {
		if ep.desc.Address == addr || (addr&0x0f == 0 && ep.desc.Address == 0) {
			return ep
		}
	}
	return nil
}

// sortEndpoints orders endpoints as usb_disable_device walks them: by
// number, OUT before IN.
func sortEndpoints(eps []*endpoint) []*endpoint {
	out := append([]*endpoint(nil), eps...)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i].desc, out[j].desc
		if a.Number() != b.Number() {
			return a.Number() < b.Number()
		}
		return !a.In() && b.In()
	})
	return out
}

// disableInterface is usb_disable_interface: disable every endpoint of
// the interface, terminating its URBs.
func (u *USB) disableInterface(intf *Interface) {
	u.emit(KindDevice, intf.Path(), "usb_disable_interface", "terminating URBs")
	u.mu.Lock()
	eps := append([]*endpoint(nil), intf.eps...)
	u.mu.Unlock()
	for _, ep := range eps {
		u.disableEndpoint(ep)
	}
}

// enableInterface is usb_enable_interface: enable the interface's
// endpoints again (after a disconnect, ready for the next driver).
func (u *USB) enableInterface(intf *Interface) {
	u.mu.Lock()
	for _, ep := range intf.eps {
		ep.enabled = true
	}
	u.mu.Unlock()
}

// disableEndpoint is usb_disable_endpoint: no more submissions (-ENOENT),
// then usb_hcd_flush_endpoint.
func (u *USB) disableEndpoint(ep *endpoint) {
	u.mu.Lock()
	ep.enabled = false
	u.mu.Unlock()
	u.flushEndpoint(ep)
}

// flushEndpoint is usb_hcd_flush_endpoint: every URB still queued is given
// back with -ESHUTDOWN (the newest first, as the flush unlinks from the
// tail), every finished URB of the endpoint still waiting for its giveback
// gets it, and the call returns only when no completion of the endpoint is
// running. The endpoint is left as it is: usb_disable_endpoint disables it
// first, usb_suspend_both has cleared the device's can_submit. On a
// controller completing in a bottom half (HCD.SetGivebackBH) the queued
// URBs are only unlinked to the giveback list with -ESHUTDOWN and nothing
// is waited for: the bottom half runs their completions later.
func (u *USB) flushEndpoint(ep *endpoint) {
	h := ep.udev.hcd
	u.mu.Lock()
	if h.bh {
		n := len(ep.queue)
		for i := len(ep.queue) - 1; i >= 0; i-- {
			urb := ep.queue[i]
			urb.state, urb.Status = urbDone, ErrShutdown
			h.done = append(h.done, urb)
		}
		ep.queue = nil
		u.mu.Unlock()
		if n > 0 {
			u.emit(KindURB, ep.udev.Path(), "usb_hcd_flush_endpoint", fmt.Sprintf("ep%02x: %d URB(s) unlinked, giveback in the bottom half", ep.desc.Address, n))
			u.killq.WakeAll()
		}
		return
	}
	var todo []*URB
	for i := len(h.done) - 1; i >= 0; i-- {
		if h.done[i].ep == ep {
			urb := h.done[i]
			h.done = append(h.done[:i:i], h.done[i+1:]...)
			todo = append([]*URB{urb}, todo...)
		}
	}
	for i := len(ep.queue) - 1; i >= 0; i-- {
		urb := ep.queue[i]
		urb.Status = ErrShutdown
		todo = append(todo, urb)
	}
	ep.queue = nil
	for _, urb := range todo {
		urb.state = urbIdle
		urb.claimLocked()
	}
	u.mu.Unlock()
	if len(todo) > 0 {
		u.emit(KindURB, ep.udev.Path(), "usb_hcd_flush_endpoint", fmt.Sprintf("ep%02x: %d URB(s)", ep.desc.Address, len(todo)))
	}
	for _, urb := range todo {
		u.giveback(urb)
	}
	u.killq.Wait(fmt.Sprintf("usb_hcd_flush_endpoint %s ep%02x", ep.udev.Name(), ep.desc.Address), func() bool {
		u.mu.Lock()
		defer u.mu.Unlock()
		return ep.completing == 0 && len(ep.queue) == 0
	})
}
