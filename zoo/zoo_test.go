package zoo_test

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/drvsim/drvsim/internal/raceexit"
	"github.com/drvsim/drvsim/sim"
	"github.com/drvsim/drvsim/zoo"
)

func TestMain(m *testing.M) {
	raceexit.NoSleep()
	goleak.VerifyTestMain(m)
}

var (
	bugName   = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	commitID  = regexp.MustCompile(`^[0-9a-f]{12}([0-9a-f]{28})?$`)
	yearMonth = regexp.MustCompile(`, 20[0-9]{2}-[01][0-9]`)
)

// Every entry names its bug, subsystem, fix commit and author, and tells
// the report, the race and the fix; a reproduced one has its pair of
// scenarios, explored exhaustively within two preemptions, the "before"
// predicting a bug and the "after" none; the others say why not.
func TestCatalog(t *testing.T) {
	bugs := zoo.Bugs()
	require.Len(t, bugs, 12)
	seen := map[string]bool{}
	reproduced := 0
	for _, b := range bugs {
		assert.Regexp(t, bugName, b.Name)
		assert.False(t, seen[b.Name], "%s twice", b.Name)
		seen[b.Name] = true
		assert.Regexp(t, commitID, b.Commit, b.Name)
		assert.Regexp(t, yearMonth, b.Author, b.Name)
		for _, s := range []string{b.Subsystem, b.Subject, b.Report, b.Race, b.Fix} {
			assert.NotEmpty(t, s, b.Name)
		}
		got, ok := zoo.Lookup(b.Name)
		require.True(t, ok)
		assert.Equal(t, b.Commit, got.Commit)
		if !b.Reproduced() {
			assert.NotEmpty(t, b.Pending, "%s: why it is not reproduced", b.Name)
			assert.NotEmpty(t, b.Missing, "%s: why, in a few words", b.Name)
			_, err := b.Hunt()
			assert.ErrorIs(t, err, zoo.ErrNotReproduced)
			continue
		}
		reproduced++
		assert.Empty(t, b.Pending, b.Name)
		assert.Equal(t, b.Name+"-before", b.Before.Name)
		assert.Equal(t, b.Name+"-after", b.After.Name)
		assert.NotEmpty(t, b.Before.Want.Bug, b.Name)
		assert.Empty(t, b.After.Want.Bug, b.Name)
		for _, sc := range []*sim.Scenario{b.Before, b.After} {
			assert.Equal(t, sim.Settings{Mode: sim.Exhaustive, MaxPreemptions: 2, Schedules: zoo.Schedules}, sc.Defaults, sc.Name)
			assert.NotEmpty(t, sc.Description, sc.Name)
		}
	}
	assert.Equal(t, 11, reproduced)
	_, ok := zoo.Lookup("no-such-bug")
	assert.False(t, ok)

	var names []string
	for _, sc := range zoo.Scenarios() {
		names = append(names, sc.Name)
	}
	assert.Len(t, names, 2*reproduced)
	assert.Equal(t, "skel-read-urb-before", names[0])
	assert.Equal(t, "skel-read-urb-after", names[1])
}

// A hunt explores both scenarios and narrates them; its replay command's
// schedule fails the same way again.
func TestHuntStory(t *testing.T) {
	b, ok := zoo.Lookup("i2cdev-cdev")
	require.True(t, ok)
	h, err := b.Hunt()
	require.NoError(t, err)
	require.NotNil(t, h.Minimal)
	assert.Equal(t, sim.BugUseAfterFree, h.Minimal.Failure.Kind)
	assert.Equal(t, "use-after-free in __fput", h.Symptom())
	assert.True(t, h.Fixed.Exhausted)
	story := h.Story()
	for _, want := range []string{
		"== i2cdev-cdev (I2C, i2c-dev character device)\nfix: 1413ef638abae4ab5621901cf4d8ef08a4a48ba6\n",
		"\n== the report\n", "\n== the race\n", "\n== the bug found: i2cdev-cdev-before\nexplore (exhaustive): ",
		"BUG: KASAN: use-after-free in __fput: cdev_put(inode->i_cdev)\n", "\nschedule:\n", "\ntrace (last 30 of ",
		"\nreplay: drvsim explore -schedule '", "\n== the fix\n",
		"\n== the fixed driver: i2cdev-cdev-after\nexplore (exhaustive): ",
	} {
		assert.Contains(t, story, want)
	}
	assert.Equal(t, story, h.Story(), "a story is deterministic")

	cfg := b.Before.Config()
	cfg.Replay = h.Minimal.Schedule()
	res := b.Before.Explore(cfg)
	require.True(t, res.Failed())
	assert.Equal(t, h.Minimal.Failure.Title, res.Failure.Failure.Title)
}

// A hunt whose outcome is not the predicted one says so.
func TestHuntReportsAWrongPrediction(t *testing.T) {
	b, ok := zoo.Lookup("gpiolib-srcu")
	require.True(t, ok)
	before, after := *b.Before, *b.After
	before.Want, after.Want = sim.Prediction{}, sim.Prediction{Bug: sim.BugUseAfterFree}
	b.Before, b.After = &before, &after // wrong predictions, both ways
	h, err := b.Hunt()
	require.Error(t, err)
	assert.False(t, errors.Is(err, zoo.ErrNotReproduced))
	assert.Contains(t, err.Error(), "gpiolib-srcu-before: expected no failure, found a use-after-free")
	assert.Contains(t, err.Error(), "gpiolib-srcu-after: expected a use-after-free, found no failure")
	assert.NotNil(t, h)
}

func TestWrap(t *testing.T) {
	assert.Equal(t, "aa bb\ncc\n", zoo.Wrap("aa  bb cc", 5))
	assert.Equal(t, "a\nlongword\nb\n", zoo.Wrap("a longword b", 3))
	assert.Equal(t, "", zoo.Wrap("  ", 10))
	assert.Equal(t, 76, len(strings.Split(zoo.Wrap(strings.Repeat("x ", 100), 76), "\n")[0])+1)
}

// Symptom names the other kinds of failure the zoo finds: an oops in a
// task, a hang, a supplier suspended under its consumer.
func TestSymptom(t *testing.T) {
	for name, want := range map[string]string{
		"bwctrl-devm-irq":     "NULL dereference in task hardirq/16",
		"deferral-race":       "hang: 1 task blocked forever",
		"ldusb-unbind":        "NULL dereference in task hcd-bh",
		"rpm-suppliers-probe": "supplier suspended under active consumer",
	} {
		b, ok := zoo.Lookup(name)
		require.True(t, ok)
		h, err := b.Hunt()
		require.NoError(t, err)
		assert.Equal(t, want, h.Symptom(), name)
	}
}
