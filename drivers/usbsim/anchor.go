package usbsim

import "sync"

// Anchor is struct usb_anchor: a set of URBs a driver tracks so that it
// can kill them all (usb_kill_anchored_urbs), typically in disconnect. An
// URB leaves its anchor when its completion is given back. The zero value
// is ready to use (init_usb_anchor).
type Anchor struct {
	mu       sync.Mutex
	urbs     []*URB
	poisoned bool // anchor->poisoned: set by PoisonAll, cleared by UnpoisonAll
}

// Anchor is usb_anchor_urb: add urb to a (removing it from any other
// anchor first, which the kernel leaves to the driver). An URB anchored to
// a poisoned anchor is poisoned too: its submissions fail with -EPERM
// until it is unpoisoned.
func (a *Anchor) Anchor(urb *URB) {
	urb.Unanchor()
	a.mu.Lock()
	a.urbs = append(a.urbs, urb)
	urb.anchor.Store(a)
	if a.poisoned {
		urb.reject.Add(1)
	}
	a.mu.Unlock()
}

// Unanchor is usb_unanchor_urb.
func (urb *URB) Unanchor() {
	a := urb.anchor.Load()
	if a == nil {
		return
	}
	a.mu.Lock()
	if urb.anchor.Load() == a {
		for i, x := range a.urbs {
			if x == urb {
				a.urbs = append(a.urbs[:i:i], a.urbs[i+1:]...)
				break
			}
		}
		urb.anchor.Store(nil)
	}
	a.mu.Unlock()
}

// Len returns how many URBs are anchored.
func (a *Anchor) Len() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.urbs)
}

// Empty is usb_anchor_empty.
func (a *Anchor) Empty() bool { return a.Len() == 0 }

// KillAll is usb_kill_anchored_urbs: kill every anchored URB, newest
// first, until the anchor is empty. URBs that were anchored but never
// submitted are simply unanchored (the kernel relies on the giveback to
// unanchor, and would spin on such an URB).
func (a *Anchor) KillAll() { a.drain((*URB).Kill) }

// PoisonAll is usb_poison_anchored_urbs: the anchor is marked poisoned
// (URBs anchored from now on are poisoned as they are anchored), then
// every anchored URB is poisoned (usb_poison_urb) and leaves the anchor.
func (a *Anchor) PoisonAll() {
	a.mu.Lock()
	a.poisoned = true
	a.mu.Unlock()
	a.drain((*URB).Poison)
}

// UnpoisonAll is usb_unpoison_anchored_urbs: the anchor is no longer
// poisoned and every URB still anchored is unpoisoned.
func (a *Anchor) UnpoisonAll() {
	a.mu.Lock()
	a.poisoned = false
	urbs := append([]*URB(nil), a.urbs...)
	a.mu.Unlock()
	for _, urb := range urbs {
		urb.Unpoison()
	}
}

// drain applies stop to the newest anchored URB and unanchors it, until the
// anchor is empty; stop may wait for a running completion, so it runs
// without the anchor's lock.
func (a *Anchor) drain(stop func(*URB)) {
	for {
		a.mu.Lock()
		if len(a.urbs) == 0 {
			a.mu.Unlock()
			return
		}
		urb := a.urbs[len(a.urbs)-1]
		a.mu.Unlock()
		stop(urb)
		urb.Unanchor()
	}
}
