package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/drvsim/drvsim/sim"
)

// progressInterval is the least time between two redraws of the progress
// line.
const progressInterval = 100 * time.Millisecond

// progressLine is the explorer's progress on a terminal: one line,
// rewritten in place ("\r") as schedules run, erased by clear.
type progressLine struct {
	w     io.Writer
	name  string
	now   func() time.Time // time.Now when nil
	last  time.Time
	width int // length of the line on screen
}

// update is a sim.ExploreConfig.Progress callback: it redraws the line at
// most every progressInterval, and always for the last call (the limit
// reached or a failure found).
func (p *progressLine) update(pr sim.Progress) {
	now := time.Now
	if p.now != nil {
		now = p.now
	}
	t := now()
	final := pr.Failed || pr.Schedules >= pr.Limit
	if !final && p.width > 0 && t.Sub(p.last) < progressInterval {
		return
	}
	p.last = t
	line := fmt.Sprintf("explore %s: %d/%d schedules", p.name, pr.Schedules, pr.Limit)
	if pr.Failed {
		line += ", failure found"
	}
	pad := ""
	if n := p.width - len(line); n > 0 {
		pad = strings.Repeat(" ", n)
	}
	fmt.Fprintf(p.w, "\r%s%s", line, pad)
	p.width = len(line)
}

// clear erases the line, leaving the cursor at its start.
func (p *progressLine) clear() {
	if p.width > 0 {
		fmt.Fprintf(p.w, "\r%s\r", strings.Repeat(" ", p.width))
		p.width = 0
	}
}
