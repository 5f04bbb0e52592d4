package chardev_test

import (
	"testing"

	"github.com/drvsim/drvsim/chardev"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/sim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A file opened in a run and never closed fails the run's files leak
// check, naming where it was opened; closing it passes; a test may opt out.
func TestFilesLeakCheck(t *testing.T) {
	run := func(closeIt bool) func(s *sim.Sim) {
		return func(s *sim.Sim) {
			devt, err := chardev.AllocRegion(s, 0, 1, "leaky")
			require.NoError(t, err)
			c := chardev.CdevAlloc(s, &chardev.FileOperations{})
			require.NoError(t, c.Add(devt, 1))
			s.Go("proc", func() {
				f, err := chardev.OpenDevt(s, devt)
				if err != nil {
					panic(err)
				}
				if closeIt {
					if err := f.Close(); err != nil {
						panic(err)
					}
				}
			})
			s.AddLeakCheck("teardown", func() []string {
				c.Del()
				chardev.UnregisterRegion(s, devt, 1)
				return nil
			})
		}
	}
	res := sim.Run(sim.Config{NoMemoryLeakCheck: true}, run(false))
	require.True(t, res.Failed(), res.String())
	assert.Equal(t, sim.BugLeak, res.Failure.Kind)
	assert.Contains(t, res.Failure.Details, "files: file /dev/char/")
	assert.Contains(t, res.Failure.Details, "never released (f_count=1), opened by task proc")
	assert.Contains(t, res.Failure.Details, "chardev_test.TestFilesLeakCheck")

	res = sim.Run(sim.Config{NoMemoryLeakCheck: true}, run(true))
	assert.False(t, res.Failed(), res.String())

	res = sim.Run(sim.Config{NoMemoryLeakCheck: true, NoLeakChecks: []string{env.LeakFiles}}, run(false))
	assert.False(t, res.Failed(), res.String())
}
