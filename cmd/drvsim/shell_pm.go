package main

import (
	"fmt"
	"time"

	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/pm"
)

// The shell's power-management commands: the machine's system sleep
// (echo mem > /sys/power/state, split at the sleep so that a lesson can
// act on a sleeping machine), a device's runtime PM (its power/control,
// and a driver's pm_runtime_get_sync / pm_runtime_put), and the passing
// of virtual time that autosuspend waits for.

func shellCmdSuspend(s *shellSession, args []string) error {
	if err := shellNoArgs("suspend", args); err != nil {
		return err
	}
	if err := pm.Suspend(s.m.sys); err != nil {
		return err
	}
	fmt.Fprintln(s.out, "the machine sleeps: resume wakes it")
	return nil
}

func shellCmdResume(s *shellSession, args []string) error {
	if err := shellNoArgs("resume", args); err != nil {
		return err
	}
	return pm.Resume(s.m.sys)
}

func shellCmdRuntime(s *shellSession, args []string) error {
	if len(args) != 2 {
		return shellUsageError("runtime")
	}
	dev, err := s.m.device(args[1])
	if err != nil {
		return err
	}
	switch args[0] {
	case "get":
		err = pm.GetSync(dev)
	case "put":
		err = pm.Put(dev)
	case "auto":
		err = pm.Allow(dev)
	case "on":
		err = pm.Forbid(dev)
	case "status":
	default:
		return shellUsageError("runtime")
	}
	st, _ := pm.StateOf(dev)
	fmt.Fprintf(s.out, "%s: %s\n", dev.Name(), st)
	return err
}

func shellCmdWait(s *shellSession, args []string) error {
	if len(args) != 1 {
		return shellUsageError("wait")
	}
	d, err := time.ParseDuration(args[0])
	if err != nil || d <= 0 || d > time.Hour {
		return fmt.Errorf("wait %q: a duration from 1ms to 1h, such as 2s or 500ms: %w", args[0], device.ErrInvalid)
	}
	s.m.sys.Advance(d)
	fmt.Fprintf(s.out, "virtual time: %v\n", s.m.sys.Now())
	return nil
}
