package usbsim

import (
	"fmt"
	"sync/atomic"
)

type urbState int

const (
	urbIdle   urbState = iota // not in flight (a completion may be running)
	urbQueued                 // on its endpoint's queue (urb_list), unanswered
	urbDone                   // finished by the hardware, waiting for giveback
)

// URB is struct urb: one transfer request to one endpoint of one device,
// with a completion handler that the host controller calls with the
// transfer's Status. Fill it in (or use FillBulk, FillInt), then Submit.
// The fields below are the driver's to set while the URB is idle; Status
// and Actual are the core's while it is in flight and the handler's to read.
type URB struct {
	// Dev is the device addressed (urb->dev).
	Dev *Device
	// Endpoint is the endpoint address (the pipe): number, DirIn for IN.
	Endpoint uint8
	// Buffer is the transfer buffer; Length bytes of it are transferred
	// (all of it when Length is 0).
	Buffer *Buffer
	Length int
	// Complete is the completion handler (urb->complete). It runs from
	// usb_hcd_giveback_urb, in the context of whoever drives the host
	// controller; it must not sleep.
	Complete func(urb *URB)
	// Context is the handler's data (urb->context).
	Context any

	// Status is the transfer's status (urb->status): nil, ErrShutdown,
	// ErrNoEntry, ErrConnReset, or what the device model reported.
	Status error
	// Actual is the number of bytes transferred (urb->actual_length).
	Actual int

	id     int
	state  urbState
	ep     *endpoint
	claims int          // completions running (urb->use_count after the hardware)
	reject atomic.Int32 // urb->reject: usb_kill_urb / usb_poison_urb in progress, or poisoned
	anchor atomic.Pointer[Anchor]
}

// AllocURB is usb_alloc_urb.
func (u *USB) AllocURB() *URB {
	u.mu.Lock()
	u.urbSeq++
	id := u.urbSeq
	u.mu.Unlock()
	return &URB{id: id}
}

// FillBulk is usb_fill_bulk_urb.
func (urb *URB) FillBulk(d *Device, ep uint8, buf *Buffer, length int, complete func(*URB), ctx any) {
	urb.Dev, urb.Endpoint, urb.Buffer, urb.Length, urb.Complete, urb.Context = d, ep, buf, length, complete, ctx
}

// FillInt is usb_fill_int_urb (the interval is not modelled).
func (urb *URB) FillInt(d *Device, ep uint8, buf *Buffer, length int, complete func(*URB), ctx any) {
	urb.FillBulk(d, ep, buf, length, complete, ctx)
}

// String names the URB in traces: "urb 3 ep81".
func (urb *URB) String() string { return fmt.Sprintf("urb %d ep%02x", urb.id, urb.Endpoint) }

// InFlight reports whether the URB is submitted and its completion has not
// finished running.
func (urb *URB) InFlight() bool {
	if urb.Dev == nil {
		return false
	}
	u := urb.Dev.u
	u.mu.Lock()
	defer u.mu.Unlock()
	return urb.state != urbIdle || urb.claims > 0
}

func (urb *URB) claimLocked() {
	urb.claims++
	if urb.ep != nil {
		urb.ep.completing++
	}
}

// Submit is usb_submit_urb: queue the URB on its endpoint and offer it to
// the device. The completion handler runs later, with the status. Errors,
// as the kernel's and in its order: ErrInvalid (no URB or no completion
// handler), ErrBusy (already in flight), ErrNoDevice (no device, or the
// device is gone), ErrNoEntry (no such endpoint: usb_pipe_endpoint is
// NULL); then, once the host controller has mapped the transfer buffer
// (map_urb_for_dma: the buffer is checked by the sanitizer only from here
// on), usb_hcd_link_urb_to_ep's: ErrPerm (being killed or poisoned),
// ErrNoEntry (the endpoint is disabled), ErrHostUnreach (the device is
// suspended: !udev->can_submit), ErrShutdown (the host controller is
// dead). It is a schedule point.
func (urb *URB) Submit() error {
	if urb == nil || urb.Complete == nil {
		return fmt.Errorf("usb_submit_urb: no completion handler: %w", ErrInvalid)
	}
	if urb.Dev == nil {
		return fmt.Errorf("usb_submit_urb %s: no device: %w", urb, ErrNoDevice)
	}
	d := urb.Dev
	u := d.u
	u.yield("urb", "usb_submit_urb", urb.String())
	u.mu.Lock()
	var err error
	var ep *endpoint
	switch {
	case urb.state != urbIdle:
		err = ErrBusy
	case d.state == StateNotAttached:
		err = ErrNoDevice
	default:
		if ep = d.endpointLocked(urb.Endpoint); ep == nil {
			err = ErrNoEntry
		}
	}
	u.mu.Unlock()
	if err == nil {
		// usb_hcd_submit_urb -> map_urb_for_dma: the controller is given
		// the buffer before usb_hcd_link_urb_to_ep checks anything else
		urb.Buffer.access("usb_submit_urb: map " + urb.String() + " transfer_buffer")
		u.mu.Lock()
		switch {
		case urb.state != urbIdle:
			err = ErrBusy
		case urb.reject.Load() != 0:
			err = ErrPerm
		case !ep.enabled:
			err = ErrNoEntry
		case d.noSubmit:
			err = ErrHostUnreach
		case d.hcd.dead:
			err = ErrShutdown
		default:
			urb.state, urb.ep, urb.Status, urb.Actual = urbQueued, ep, ErrInProgress, 0
			ep.queue = append(ep.queue, urb)
		}
		u.mu.Unlock()
	}
	if err != nil {
		u.emit(KindURB, d.Path(), "usb_submit_urb", urb.String()+": "+Errno(err))
		return fmt.Errorf("usb_submit_urb %s %s: %w", d.Name(), urb, err)
	}
	u.emit(KindURB, d.Path(), "usb_submit_urb", fmt.Sprintf("%s %s len=%d", urb, ep.desc.Type, urb.length()))
	u.process(d)
	return nil
}

func (urb *URB) length() int {
	if urb.Buffer == nil {
		return 0
	}
	if urb.Length > 0 && urb.Length <= len(urb.Buffer.data) {
		return urb.Length
	}
	return len(urb.Buffer.data)
}

// process is the simulated hardware: the device model is offered the head
// URB of each enabled endpoint until no endpoint makes progress; answered
// URBs move to the controller's giveback list. A device that is not
// attached answers nothing.
func (u *USB) process(d *Device) {
	fn := d.gadget.Function
	if fn == nil {
		return
	}
	h := d.hcd
	progress := false
	u.mu.Lock()
	for changed := true; changed && d.state != StateNotAttached; {
		changed = false
		for _, ep := range d.eps {
			if !ep.enabled || len(ep.queue) == 0 {
				continue
			}
			urb := ep.queue[0]
			t := &Transfer{Endpoint: ep.desc}
			if urb.Buffer != nil {
				t.Data = urb.Buffer.data[:urb.length()]
			}
			if !fn.Transfer(t) {
				continue
			}
			ep.queue = ep.queue[1:]
			urb.state, urb.Status, urb.Actual = urbDone, t.Status, t.Actual
			h.done = append(h.done, urb)
			changed, progress = true, true
		}
	}
	u.mu.Unlock()
	if progress {
		u.killq.WakeAll()
	}
}

// giveback is usb_hcd_giveback_urb for an URB already claimed (taken off
// its queue, claims incremented): unanchor it, check the controller's DMA
// into its buffer, run the completion handler, then drop the claim. It is
// a schedule point.
func (u *USB) giveback(urb *URB) {
	u.yield("urb", "usb_hcd_giveback_urb", urb.String())
	urb.Unanchor()
	if urb.Actual > 0 {
		urb.Buffer.access("usb_hcd_giveback_urb: DMA of " + urb.String() + " transfer_buffer")
	}
	u.emit(KindURB, urb.Dev.Path(), "usb_hcd_giveback_urb", fmt.Sprintf("%s status=%s actual=%d", urb, Errno(urb.Status), urb.Actual))
	defer func() {
		u.mu.Lock()
		urb.claims--
		if urb.ep != nil {
			urb.ep.completing--
		}
		u.mu.Unlock()
		u.killq.WakeAll()
	}()
	urb.Complete(urb)
}
