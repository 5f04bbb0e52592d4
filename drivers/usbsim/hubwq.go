package usbsim

import (
	"fmt"
	"strconv"
	"strings"
)

// The hub_wq. In the kernel a hub's port changes are handled by
// hub_event, a work item on the hub_wq workqueue: hub_irq or
// hub_activate sets the port's bit in hub->change_bits and kick_hub_wq
// queues the work, which later takes the hub's device lock and runs
// port_event -> hub_port_connect_change -> hub_port_connect for every
// flagged port.
//
// drvsim has no worker for it. Plug and Unplug run the port's work inline,
// in the caller (they model "the cable moved and hub_wq handled it"). The
// work hub_activate queues when a hub driver binds (a device is still
// plugged in behind a hub whose driver was unbound, or a hub is plugged in
// with devices on its ports) runs inline when the outermost USB core call
// in progress returns, the way the driver core runs its deferred-probe
// worker at the end of the top-level operation: after the hub's own
// probe and bind are complete. The trace says so on the hub_event line.

// enter and exit bracket every USB core entry point (the exported
// operations and the usb bus's probe and remove callbacks); op names the
// call for the trace. The last one to leave (the outermost call, or, when
// tasks run USB core calls concurrently, the last of them) runs the queued
// hub_wq work.
func (u *USB) enter() {
	u.mu.Lock()
	u.depth++
	u.mu.Unlock()
}

func (u *USB) exit(op string) {
	u.mu.Lock()
	for u.depth == 1 && !u.wqRunning && len(u.wq) > 0 {
		u.wqRunning = true
		u.mu.Unlock()
		u.hubWQ(op)
		u.mu.Lock()
		u.wqRunning = false
	}
	u.depth--
	u.mu.Unlock()
}

// kickHubWQLocked is kick_hub_wq: queue the hub's work unless it is
// queued already. Called with u.mu held.
func (u *USB) kickHubWQLocked(hub *Device) {
	if hub.queued {
		return
	}
	hub.queued = true
	u.wq = append(u.wq, hub)
}

// hubWQ runs the queued hub work items, oldest first, until none is left
// (work run here may queue more: a hub enumerated with devices already on
// its ports).
func (u *USB) hubWQ(outer string) {
	for {
		u.mu.Lock()
		if len(u.wq) == 0 {
			u.mu.Unlock()
			return
		}
		hub := u.wq[0]
		u.wq = u.wq[1:]
		hub.queued = false
		var ports []int
		for i, c := range hub.change {
			if c {
				ports = append(ports, i+1)
				hub.change[i] = false
			}
		}
		// hub_event: a hub whose driver went (hub->disconnected) or that
		// is gone does nothing
		active := hub.hubUp && hub.state != StateNotAttached && !hub.hcd.dead
		intf := hub.hubIntf
		u.mu.Unlock()
		if !active || len(ports) == 0 || intf == nil {
			continue
		}
		u.hubEvent(hub, intf, ports, outer)
	}
}

// hubEvent is hub_event for the flagged ports: port_event ->
// hub_port_connect_change -> hub_port_connect, for a port with a device
// connected and no usb_device yet.
func (u *USB) hubEvent(hub *Device, intf *Interface, ports []int, outer string) {
	u.emit(KindHub, intf.Path(), "hub_event",
		fmt.Sprintf("port %s: connect change (hub_wq work, run inline as %s returns)", portList(ports), outer))
	for _, port := range ports {
		u.mu.Lock()
		g := u.ports[hub.gadget][port-1]
		child := hub.children[port-1]
		active := hub.hubUp && hub.state != StateNotAttached && !hub.hcd.dead
		u.mu.Unlock()
		if !active {
			return
		}
		if g == nil || child != nil {
			continue // unplugged meanwhile, or enumerated by a Plug
		}
		_, _ = u.hubPortConnect(hub, port, g)
	}
}

func portList(ports []int) string {
	s := make([]string, len(ports))
	for i, p := range ports {
		s[i] = strconv.Itoa(p)
	}
	return strings.Join(s, ",")
}
