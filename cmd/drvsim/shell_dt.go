package main

import (
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/of"
	"github.com/drvsim/drvsim/of/board"
	"github.com/drvsim/drvsim/of/ofplatform"
)

// The shell's device-tree commands: dt (boot from a tree, show it) and
// overlay (apply, remove, list).

// shellOverlays are the board's built-in overlays, by name.
var shellOverlays = map[string]struct {
	file string
	src  []byte
}{
	"sensor": {"sensor-overlay.dtso", board.SensorOverlay},
	"uart":   {"uart-overlay.dtso", board.UARTOverlay},
}

// shellMaxDTS bounds a source the shell reads (the parser's own bound).
const shellMaxDTS = 1 << 20

// readDTS reads a source file, bounded: it reads at most one byte more
// than shellMaxDTS, whatever the file claims to hold (a device such as
// /dev/zero or a pipe says 0 bytes and never ends).
func readDTS(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, shellMaxDTS+1))
	if err != nil {
		return nil, err
	}
	if len(b) > shellMaxDTS {
		return nil, fmt.Errorf("%s: more than %d bytes: %w", path, shellMaxDTS, device.ErrFileTooBig)
	}
	return b, nil
}

func shellCmdDT(s *shellSession, args []string) error {
	switch {
	case len(args) == 2 && args[0] == "load":
		return s.m.dtLoad(args[1])
	case len(args) == 1 && args[0] == "show":
		t := of.TreeOf(s.m.sys)
		if t == nil {
			return fmt.Errorf("no device tree: dt load first: %w", device.ErrNoDevice)
		}
		fmt.Fprint(s.out, t.String())
		return nil
	}
	return shellUsageError("dt")
}

// dtLoad boots the platform side from a tree: the board's drivers (once),
// of.Load, then of_platform_default_populate.
func (m *shellMachine) dtLoad(arg string) error {
	if of.TreeOf(m.sys) != nil {
		return fmt.Errorf("a device tree is loaded already (one per boot): %w", device.ErrBusy)
	}
	name, src := "board.dts", board.Source
	if arg != "board" {
		var err error
		if src, err = m.readSource(arg); err != nil {
			return err
		}
		name = arg
	}
	if m.board == nil {
		b, err := board.Register(m.sys)
		if err != nil {
			return err
		}
		m.board = b
	}
	if _, err := of.Load(m.sys, name, src); err != nil {
		return err
	}
	return ofplatform.Populate(m.sys)
}

func shellCmdOverlay(s *shellSession, args []string) error {
	t := of.TreeOf(s.m.sys)
	if len(args) == 0 {
		return shellUsageError("overlay")
	}
	if t == nil {
		return fmt.Errorf("no device tree: dt load first: %w", device.ErrNoDevice)
	}
	switch {
	case len(args) == 2 && args[0] == "apply":
		name, src := args[1], []byte(nil)
		if b, ok := shellOverlays[args[1]]; ok {
			name, src = b.file, b.src
		} else {
			var err error
			if src, err = s.m.readSource(args[1]); err != nil {
				return err
			}
		}
		ov, err := t.ApplyOverlay(name, src)
		if ov != nil {
			fmt.Fprintf(s.out, "overlay %d: %s\n", ov.ID(), name)
		}
		return err
	case len(args) == 2 && args[0] == "remove":
		id, err := strconv.Atoi(args[1])
		if err != nil {
			return shellUsageError("overlay")
		}
		return t.RemoveOverlay(id)
	case len(args) == 1 && args[0] == "list":
		for _, ov := range t.Overlays() {
			fmt.Fprintf(s.out, "overlay %d: %s", ov.ID(), ov.File())
			for _, n := range ov.Nodes() {
				fmt.Fprintf(s.out, " +%s", n.Path())
			}
			fmt.Fprintln(s.out)
		}
		return nil
	}
	return shellUsageError("overlay")
}
