package usbsim

import (
	"fmt"
	"slices"
)

// HCD is struct usb_hcd: a host controller, its bus number, its root hub,
// and the list of URBs the hardware has finished whose completion handlers
// have not run yet (the giveback list of its bottom half).
type HCD struct {
	u      *USB
	busnum int
	root   *Device

	// guarded by u.mu
	dead       bool
	bh         bool // HCD_BH: givebacks are left to the bottom half
	nextDevnum int
	done       []*URB
}

// AddHCD is usb_add_hcd: a host controller with a root hub of ports ports
// (register_root_hub). usb_register_bus gives it the lowest free bus
// number from 1 to MaxBus-1: a number comes free again when its
// controller is removed. Errors: ErrInvalid for ports outside
// 1..MaxChildren, ErrTooBig when every bus number is taken ("failed to get
// bus number").
func (u *USB) AddHCD(ports int) (*HCD, error) {
	if ports < 1 || ports > MaxChildren {
		return nil, fmt.Errorf("usb_add_hcd: %d ports: a root hub has 1 to %d (USB_MAXCHILDREN): %w", ports, MaxChildren, ErrInvalid)
	}
	u.enter()
	defer u.exit("usb_add_hcd")
	u.mu.Lock()
	busnum := u.freeBusnumLocked()
	if busnum == 0 {
		u.mu.Unlock()
		u.emit(KindHub, "", "usb_register_bus", "usbcore: failed to get bus number")
		return nil, fmt.Errorf("usb_add_hcd: %d buses registered, bus numbers 1 to %d: %w", MaxBus-1, MaxBus-1, ErrTooBig)
	}
	h := &HCD{u: u, busnum: busnum}
	u.hcds = append(u.hcds, h)
	u.mu.Unlock()
	u.emit(KindHub, "", "usb_add_hcd", fmt.Sprintf("new USB bus registered, assigned bus number %d", h.busnum))
	h.root = u.allocDev(h, nil, 0, rootHubGadget(ports))
	if err := u.newDevice(h.root); err != nil {
		return nil, fmt.Errorf("register_root_hub: %w", err)
	}
	return h, nil
}

// BusNum returns the bus number (busnum).
func (h *HCD) BusNum() int { return h.busnum }

// RootHub returns the root hub, "usbN" (hcd->self.root_hub).
func (h *HCD) RootHub() *Device { return h.root }

// freeBusnumLocked returns the lowest bus number no registered controller
// has (idr_alloc from 1 below USB_MAXBUS), 0 when all are taken. Called
// with u.mu held.
func (u *USB) freeBusnumLocked() int {
	var used [MaxBus]bool
	for _, h := range u.hcds {
		used[h.busnum] = true
	}
	for n := 1; n < MaxBus; n++ {
		if !used[n] {
			return n
		}
	}
	return 0
}

// Remove is usb_remove_hcd: the root hub and everything below it are
// disconnected (usb_disconnect), the controller is dead (submissions fail
// with -ESHUTDOWN) and usb_deregister_bus frees its bus number: it is no
// longer among USB.HCDs, and the next AddHCD may reuse the number.
// Removing a controller a second time is ErrNoDevice and does nothing.
func (h *HCD) Remove() error {
	u := h.u
	u.mu.Lock()
	if h.dead {
		u.mu.Unlock()
		return fmt.Errorf("usb_remove_hcd usb%d: already removed: %w", h.busnum, ErrNoDevice)
	}
	h.dead = true
	u.mu.Unlock()
	u.enter()
	defer u.exit("usb_remove_hcd")
	u.emit(KindHub, h.root.Path(), "usb_remove_hcd", "remove, state dead")
	u.disconnect(h.root)
	u.mu.Lock()
	u.hcds = slices.DeleteFunc(u.hcds, func(x *HCD) bool { return x == h })
	u.mu.Unlock()
	u.emit(KindHub, h.root.Path(), "usb_deregister_bus", fmt.Sprintf("USB bus %d deregistered", h.busnum))
	return nil
}

// SetGivebackBH makes the controller complete URBs in a bottom half, as a
// host controller driver with HCD_BH in its hc_driver flags does (ehci,
// xhci): usb_hcd_giveback_urb only queues the URB for the bottom half.
// usb_hcd_flush_endpoint (at an interface unbind, a disconnect) then takes
// the endpoint's queued URBs off it with -ESHUTDOWN and returns once the
// queue is empty, without waiting for their completions nor for those of
// URBs the hardware had already finished: they run when the bottom half
// does (Flush), which may be after the driver's disconnect has returned.
// usb_kill_urb still waits for its URB's completion. Without it (the
// default) the flush gives those URBs back itself and waits for running
// completions.
func (h *HCD) SetGivebackBH(on bool) {
	h.u.mu.Lock()
	h.bh = on
	h.u.mu.Unlock()
}

// Pending returns how many finished URBs wait for their completion
// handler.
func (h *HCD) Pending() int {
	h.u.mu.Lock()
	defer h.u.mu.Unlock()
	return len(h.done)
}

// Flush runs the completion handler of every URB the hardware had
// finished when Flush was called, in order (one pass of the controller's
// bottom half calling usb_hcd_giveback_urb). URBs that finish meanwhile (a
// handler resubmitting to a device that answers at once) wait for the next
// Flush. It returns how many it gave back.
func (h *HCD) Flush() int {
	n := h.Pending()
	for i := 0; i < n; i++ {
		urb := h.u.claimDone(h, nil)
		if urb == nil {
			return i
		}
		h.u.giveback(urb)
	}
	return n
}

// claimDone takes the first URB off h's giveback list (only want, if not
// nil) and marks its completion as running.
func (u *USB) claimDone(h *HCD, want *URB) *URB {
	u.mu.Lock()
	defer u.mu.Unlock()
	for i, urb := range h.done {
		if want != nil && urb != want {
			continue
		}
		h.done = append(h.done[:i:i], h.done[i+1:]...)
		urb.state = urbIdle
		urb.claimLocked()
		return urb
	}
	return nil
}
