import { expect } from 'chai';
import { type RefreshTokenState, type Session, checkAccess, decideRotation } from '../../../src/domain/session.js';

const LOGIN = Date.UTC(2026, 0, 1);
const GRACE_MS = 10_000;
const SUCCESSOR = 'successor-digest';

const session: Session = {
  id: '00000000-0000-4000-8000-000000000001',
  userId: 7,
  createdAt: LOGIN,
  expiresAt: LOGIN + 3600_000,
  revokedAt: null,
};
const live: RefreshTokenState = { spentAt: null, successorHash: null };
/** Spent one minute after login, for {@link SUCCESSOR}. */
const SPENT_AT = LOGIN + 60_000;
const spent: RefreshTokenState = { spentAt: SPENT_AT, successorHash: SUCCESSOR };

const attempt = (now: number, graceMs = GRACE_MS, successorHash = SUCCESSOR) => ({ now, graceMs, successorHash });

describe('domain: decideRotation', () => {
  it('rotates a live token of a live session', () => {
    expect(decideRotation(session, live, attempt(LOGIN + 1000))).to.equal('rotate');
    expect(decideRotation(session, live, attempt(session.expiresAt - 1))).to.equal('rotate');
  });

  it('replays a spent token presented within the grace window for the same successor', () => {
    expect(decideRotation(session, spent, attempt(SPENT_AT))).to.equal('replay');
    expect(decideRotation(session, spent, attempt(SPENT_AT + 5_000))).to.equal('replay');
    expect(decideRotation(session, spent, attempt(SPENT_AT + GRACE_MS - 1))).to.equal('replay');
  });

  it('calls it reuse when the spent token comes back within the window but derives another successor', () => {
    expect(decideRotation(session, spent, attempt(SPENT_AT + 1000, GRACE_MS, 'another-digest'))).to.equal('reuse');
  });

  it('calls it reuse after the grace window', () => {
    expect(decideRotation(session, spent, attempt(SPENT_AT + 11_000))).to.equal('reuse');
    expect(decideRotation(session, spent, attempt(SPENT_AT + 30 * 60_000))).to.equal('reuse');
  });

  it('calls it reuse exactly at the end of the grace window (spent + grace)', () => {
    expect(decideRotation(session, spent, attempt(SPENT_AT + GRACE_MS))).to.equal('reuse');
  });

  it('with a grace of 0 allows no replay, not even at the same instant', () => {
    expect(decideRotation(session, spent, attempt(SPENT_AT, 0))).to.equal('reuse');
    expect(decideRotation(session, spent, attempt(SPENT_AT + 1000, 0))).to.equal('reuse');
    expect(decideRotation(session, live, attempt(SPENT_AT, 0)), 'a live token still rotates').to.equal('rotate');
  });

  it('answers revoked for any token of a revoked session, before expiry and reuse', () => {
    const revoked = { ...session, revokedAt: LOGIN + 120_000 };
    expect(decideRotation(revoked, live, attempt(LOGIN + 180_000))).to.equal('revoked');
    expect(decideRotation(revoked, spent, attempt(SPENT_AT + 1000))).to.equal('revoked');
    expect(decideRotation(revoked, spent, attempt(SPENT_AT + 60_000))).to.equal('revoked');
    expect(decideRotation(revoked, live, attempt(session.expiresAt + 1))).to.equal('revoked');
  });

  it('answers expired from the session end on, for live and spent tokens alike', () => {
    expect(decideRotation(session, live, attempt(session.expiresAt))).to.equal('expired');
    expect(decideRotation(session, live, attempt(session.expiresAt + 1))).to.equal('expired');
    const spentLate = { spentAt: session.expiresAt - 1000, successorHash: SUCCESSOR };
    expect(decideRotation(session, spentLate, attempt(session.expiresAt)), 'even within the grace').to.equal('expired');
    expect(decideRotation(session, spent, attempt(session.expiresAt + 60_000))).to.equal('expired');
  });
});

describe('domain: checkAccess', () => {
  const user = { id: 7, username: 'alice', isActive: true };
  const own = { userId: 7, revokedAt: null };

  it('answers the user when the user is active and the session is theirs and live', () => {
    expect(checkAccess(user, own, 7)).to.deep.equal({ ok: true, value: user });
  });

  it('refuses an inactive user with InactiveUser, also when the session was revoked with the deactivation', () => {
    const inactive = { ...user, isActive: false };
    expect(checkAccess(inactive, own, 7)).to.deep.equal({ ok: false, error: { code: 'InactiveUser' } });
    expect(checkAccess(inactive, { userId: 7, revokedAt: LOGIN }, 7)).to.deep.equal({
      ok: false,
      error: { code: 'InactiveUser' },
    });
  });

  it('refuses a missing (deleted) user with InactiveUser', () => {
    expect(checkAccess(null, own, 7)).to.deep.equal({ ok: false, error: { code: 'InactiveUser' } });
    expect(checkAccess(null, null, 7)).to.deep.equal({ ok: false, error: { code: 'InactiveUser' } });
  });

  it('refuses a missing session with RevokedToken', () => {
    expect(checkAccess(user, null, 7)).to.deep.equal({ ok: false, error: { code: 'RevokedToken' } });
  });

  it('refuses a revoked session with RevokedToken', () => {
    expect(checkAccess(user, { userId: 7, revokedAt: LOGIN + 1 }, 7)).to.deep.equal({
      ok: false,
      error: { code: 'RevokedToken' },
    });
  });

  it("refuses another user's session with RevokedToken", () => {
    expect(checkAccess(user, { userId: 8, revokedAt: null }, 7)).to.deep.equal({
      ok: false,
      error: { code: 'RevokedToken' },
    });
  });
});
