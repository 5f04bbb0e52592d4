package srcu

import (
	"fmt"
	"sync"

	"github.com/drvsim/drvsim/internal/goid"
)

// lockdep tracks which goroutines (or, under a scheduler, which simulated
// tasks) are inside a domain's read sections: the debug counterpart of the
// kernel lockdep's srcu checks. Every method is a slow path.
type lockdep struct {
	mu    sync.Mutex
	held  map[uint64]int    // holder key -> open sections
	tasks map[string]uint64 // task name -> holder key (scheduler runs)
}

// taskKeyBase keeps task keys apart from goroutine ids; keys stay below
// 1<<63 so that a Guard can pack one with the index.
const taskKeyBase = 1 << 61

// self returns the calling holder's key: its simulated task when a
// scheduler runs one, its goroutine id otherwise.
func (l *lockdep) self(d *Domain) (key uint64, who string) {
	if d.sch != nil {
		if name := d.sch.Current(); name != "" {
			l.mu.Lock()
			k, ok := l.tasks[name]
			if !ok {
				if l.tasks == nil {
					l.tasks = map[string]uint64{}
				}
				k = taskKeyBase + uint64(len(l.tasks))
				l.tasks[name] = k
			}
			l.mu.Unlock()
			return k, "task " + name
		}
	}
	id := goid.Get()
	return id, fmt.Sprintf("goroutine %d", id)
}

func (l *lockdep) enter(d *Domain) uint64 {
	k, _ := l.self(d)
	l.mu.Lock()
	if l.held == nil {
		l.held = map[uint64]int{}
	}
	l.held[k]++
	l.mu.Unlock()
	return k
}

func (l *lockdep) exit(k uint64) {
	l.mu.Lock()
	if l.held[k] > 1 {
		l.held[k]--
	} else {
		delete(l.held, k)
	}
	l.mu.Unlock()
}

// heldBy returns how many read sections the caller holds.
func (l *lockdep) heldBy(d *Domain) (int, string) {
	k, who := l.self(d)
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.held[k], who
}
