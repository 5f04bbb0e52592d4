package srcu

import (
	"slices"
	"sync"

	"github.com/drvsim/drvsim/env"
)

// lockdep tracks which tasks (goroutines, or simulated tasks) are inside a
// domain's read sections: the debug counterpart of the kernel lockdep's
// srcu checks, on when the domain's environment has lockdep on. Every
// method is a slow path.
type lockdep struct {
	e    *env.Env
	mu   sync.Mutex
	held map[env.Owner]int // holder -> open sections
}

// enter records a read section of the caller and returns the caller's key,
// which the Guard carries to exit.
func (l *lockdep) enter() uint64 {
	k := l.e.Self()
	l.mu.Lock()
	if l.held == nil {
		l.held = map[env.Owner]int{}
	}
	l.held[k]++
	l.mu.Unlock()
	return uint64(k)
}

func (l *lockdep) exit(k uint64) {
	o := env.Owner(k)
	l.mu.Lock()
	if l.held[o] > 1 {
		l.held[o]--
	} else {
		delete(l.held, o)
	}
	l.mu.Unlock()
}

// heldBy returns how many read sections the caller holds, and names it.
func (l *lockdep) heldBy() (int, string) {
	h := l.e.Holder()
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.held[h.Owner], h.String()
}

// holders returns the tasks inside read sections, in a fixed order.
func (l *lockdep) holders() []env.Owner {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]env.Owner, 0, len(l.held))
	for o := range l.held {
		out = append(out, o)
	}
	slices.Sort(out)
	return out
}
