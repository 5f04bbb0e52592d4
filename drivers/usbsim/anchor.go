package usbsim

import "sync"

// Anchor is struct usb_anchor: a set of URBs a driver tracks so that it
// can kill them all (usb_kill_anchored_urbs), typically in disconnect. An
// URB leaves its anchor when its completion is given back. The zero value
// is ready to use (init_usb_anchor).
type Anchor struct {
	mu   sync.Mutex
	urbs []*URB
}

// Anchor is usb_anchor_urb: add urb to a (removing it from any other
// anchor first).
func (a *Anchor) Anchor(urb *URB) {
	urb.Unanchor()
	a.mu.Lock()
	a.urbs = append(a.urbs, urb)
	urb.anchor.Store(a)
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
// submitted are simply unanchored.
func (a *Anchor) KillAll() { a.drain((*URB).Kill) }

// PoisonAll is usb_poison_anchored_urbs: KillAll with every URB left
// poisoned.
func (a *Anchor) PoisonAll() { a.drain((*URB).Poison) }

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
