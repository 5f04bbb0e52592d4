package main

import (
	"fmt"
	"strings"

	"github.com/drvsim/drvsim/drivers/sensor"
	sensorscenario "github.com/drvsim/drvsim/drivers/sensor/scenario"
	"github.com/drvsim/drvsim/drivers/usbsim/scenario"
	"github.com/drvsim/drvsim/sim"
	"github.com/drvsim/drvsim/trace"
)

// cdevMarkers cut a sensor story (sensorscenario.RunOpenAcrossUnbind) into
// its steps: the open and first read, the unbind, the read and close
// after it.
func cdevMarkers(open, unbind, after string) []scenario.Marker {
	return []scenario.Marker{
		{Heading: open, Match: funcIs("chrdev_open")},
		{Heading: unbind, Match: funcIs("device_del")},
		{Heading: after, Match: func(e trace.Event) bool {
			return e.Func == "vfs_read" && e.Task == "process" && strings.Contains(e.Msg, "-ENODEV")
		}},
	}
}

// cdevStory runs the story on v and cuts it into phases, keeping the
// events of the character layer, the driver core's unbind and the frees.
func cdevStory(v sensor.Variant, markers []scenario.Marker) (*sensorscenario.OpenAcrossUnbind, []scenario.Phase, error) {
	st, err := sensorscenario.RunOpenAcrossUnbind(v)
	if err != nil {
		return nil, nil, err
	}
	var evs []trace.Event
	for _, e := range st.Result.Events {
		if e.Kind == trace.Notify || e.Kind == trace.Uevent || e.Func == "schedule" || e.Func == "wake_up_new_task" {
			continue
		}
		evs = append(evs, e)
	}
	phases := scenario.SplitPhases(evs, markers)
	for _, p := range phases {
		if len(p.Events) == 0 {
			return nil, nil, fmt.Errorf("%s: no events for phase %q", v, p.Heading)
		}
	}
	return st, phases, nil
}

// demoCdev is the classic lifetime bug of character drivers, a struct
// cdev embedded in devm memory freed while a file is open, found by the
// explorer, then the same story with the file operations revoked at
// cdev_del (chardev.Active) and with the struct refcounted.
func demoCdev(s *story) error {
	st, phases, err := cdevStory(sensor.DevmCdev, cdevMarkers(
		"sensor-devm-cdev embeds its struct cdev in devm_kzalloc'ed memory; a process opens /dev/sensor0 and reads",
		"the device is unbound: remove runs cdev_del (the open file keeps its cdev reference), then devres frees struct sensor",
		"the process reads (-ENODEV: its file operations are revocable) and closes: the last fput's cdev_put touches the freed struct"))
	if err != nil {
		return err
	}
	if !st.Result.Failed() || st.Result.Failure.Kind != sim.BugUseAfterFree {
		return fmt.Errorf("%s: no use-after-free at the close", sensor.DevmCdev)
	}
	phases[len(phases)-1].Notes = []string{strings.TrimSuffix(st.Result.Failure.String(), "\n")}

	sc := sensorscenario.ScenarioOf(sensor.DevmCdev)
	ex := sc.Explore(sc.Config())
	if err := sc.Check(ex); err != nil {
		return fmt.Errorf("%s: %v", sc.Name, err)
	}
	summary, _, _ := strings.Cut(ex.String(), "\n")
	phases = append(phases, scenario.Phase{
		Heading: "the explorer finds it in the race of a read with the unbind: drvsim explore " + sc.Name,
		Notes:   []string{summary, ex.Failure.Failure.Title, "replay: " + replayCommand(sc.Name, ex.Failure)},
	})

	st, drain, err := cdevStory(sensor.Drain, cdevMarkers(
		"the fix in the character layer: sensor-drain, the same devm struct, its file operations under active references (chardev.Active)",
		"the unbind: cdev_del revokes them: no new call, the calls in flight drained, the open file released and detached from the cdev; then devres frees the struct",
		"the process's read gets -ENODEV without reaching the driver, and its close touches nothing of it"))
	if err != nil {
		return err
	}
	if st.Result.Failed() {
		return fmt.Errorf("%s: %s", sensor.Drain, st.Result.Failure.Title)
	}
	phases = append(phases, drain...)

	st, ref, err := cdevStory(sensor.Refcounted, cdevMarkers(
		"the fix by reference counting: sensor-refcounted embeds the cdev in a struct its class device owns (cdev_device_add)",
		"the unbind: cdev_device_del; the struct lives on, held by the open file through the cdev and the class device",
		"the process's read gets -ENODEV (the driver's gone flag); its close drops the last reference and the device's release frees the struct"))
	if err != nil {
		return err
	}
	if st.Result.Failed() {
		return fmt.Errorf("%s: %s", sensor.Refcounted, st.Result.Failure.Title)
	}
	phases = append(phases, ref...)
	s.phases(phases)
	return nil
}
