package revocable_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/revocable"
)

// A revoke from inside the caller's own read section never ends. With
// lockdep on, Revoke panics at once (TestRevokeInsideReadSectionPanics);
// with lockdep off the hung-task detector catches it: it names the revoke,
// the grace period and the open read section. The test then releases the
// access from another goroutine, which a real kernel could not do, so the
// revoking goroutine ends.
func TestRevokeInsideOwnReadSectionWithoutLockdepIsReported(t *testing.T) {
	e := env.New(env.WithLockdep(false), env.WithHungTaskTimeout(50*time.Millisecond), env.WithHungTaskPanic(false))
	res := 42
	p := revocable.NewProvider(e, &res, revocable.WithName("gpu"))
	c, err := revocable.New(p)
	require.NoError(t, err)
	held := make(chan revocable.Access)
	done := make(chan struct{})
	go func() {
		defer close(done)
		r, a := c.TryAccess()
		require.NotNil(t, r)
		held <- a
		p.Revoke() // waits for its own read section
	}()
	a := <-held
	var rep *env.Report
	deadline := time.Now().Add(20 * time.Second)
	for rep == nil && time.Now().Before(deadline) {
		kept, _ := e.Reports()
		for _, r := range kept {
			if r.Kind == env.BugHung {
				rep = r
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	a.Release()
	<-done
	require.NotNil(t, rep)
	assert.Contains(t, rep.Title, "in synchronize_srcu gpu")
	assert.True(t, strings.Contains(rep.Details, "[synchronize_srcu gpu] -> 1 read sections open (holders unknown: lockdep is off; a revoke from inside the task's own read section never ends)"), rep.Details)
	require.NoError(t, c.Close())
	assert.True(t, p.Released())
}

// With lockdep, the grace period's holders are named: the chain leads from
// the revoking task to the reader.
func TestBlockedRevokeNamesReaders(t *testing.T) {
	e := env.New(env.WithHungTaskTimeout(50*time.Millisecond), env.WithHungTaskPanic(false))
	res := 1
	p := revocable.NewProvider(e, &res, revocable.WithName("fb"))
	c, err := revocable.New(p)
	require.NoError(t, err)
	release := make(chan struct{})
	inside := make(chan env.Owner)
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		_, a := c.TryAccess()
		inside <- e.Self()
		<-release
		a.Release()
	}()
	reader := <-inside
	revoked := make(chan struct{})
	go func() {
		defer close(revoked)
		p.Revoke()
	}()
	var rep *env.Report
	deadline := time.Now().Add(20 * time.Second)
	for rep == nil && time.Now().Before(deadline) {
		kept, _ := e.Reports()
		for _, r := range kept {
			if r.Kind == env.BugHung {
				rep = r
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	close(release)
	<-readerDone
	<-revoked
	require.NotNil(t, rep)
	assert.Contains(t, rep.Details, "[synchronize_srcu fb] -> 1 read sections open -> "+env.Holder{Owner: reader}.String()+"\n")
	require.NoError(t, c.Close())
}
