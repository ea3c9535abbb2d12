import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deadLetterBreaker } from './breaker.ts';

test('a few poison records among many never trip it', () => {
  const breaker = deadLetterBreaker({ window: 100, minDeadLetters: 10, ratio: 0.5 });
  for (let i = 0; i < 1000; i++) assert.equal(breaker.record(10, i % 10 === 0 ? 3 : 0), false);
});

test('trips once most of the window is dead-lettered, and no sooner than the minimum', () => {
  const breaker = deadLetterBreaker({ window: 100, minDeadLetters: 10, ratio: 0.5 });
  assert.equal(breaker.record(5, 5), false, 'five letters are below the minimum');
  assert.equal(breaker.record(5, 5), true);
});

test('a window of old calls is forgotten: a recovered stream does not trip', () => {
  const breaker = deadLetterBreaker({ window: 100, minDeadLetters: 10, ratio: 0.5 });
  assert.equal(breaker.record(20, 9), false);
  for (let i = 0; i < 10; i++) breaker.record(20, 0);
  assert.equal(breaker.record(20, 9), false, 'nine letters in the newest 100 records');
});

test('the cool-down doubles while tripping again right after each one, and resets once a window passes cleanly', () => {
  const breaker = deadLetterBreaker({ window: 10, minDeadLetters: 5, ratio: 0.5, initialCoolDownMs: 100, maxCoolDownMs: 350 });
  assert.equal(breaker.record(10, 10), true);
  assert.equal(breaker.coolDownMs(), 100);
  breaker.halfOpen();
  assert.equal(breaker.record(10, 10), true);
  assert.equal(breaker.coolDownMs(), 200);
  breaker.halfOpen();
  assert.equal(breaker.record(10, 10), true);
  assert.equal(breaker.coolDownMs(), 350, 'capped');
  breaker.halfOpen();
  assert.equal(breaker.record(10, 0), false);
  assert.equal(breaker.coolDownMs(), 100);
});
