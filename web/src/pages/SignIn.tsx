/** Sign-in against the server's local issuer (POST /auth/token). */
import { useState } from 'preact/hooks';
import { api } from '../api.ts';
import type { Session } from '../session.ts';

interface TokenResponse {
  access_token: string;
  token_type: string;
  expires_in: number;
  user: { id: string; name: string; roles: string[]; sites: string[] };
}

export function SignIn({ notice, onSignedIn }: { notice: string | null; onSignedIn: (session: Session) => void }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    const result = await api.request<TokenResponse>('POST', '/auth/token', { username: username.trim(), password }, { auth: false });
    setBusy(false);
    if (!result.ok) {
      setError(result.error.message);
      return;
    }
    const { access_token, expires_in, user } = result.data;
    onSignedIn({ token: access_token, expiresAt: Date.now() + expires_in * 1000, user });
  };

  return (
    <main id="main" class="signin">
      <form class="signin-form" onSubmit={submit} aria-describedby={error ? 'signin-error' : undefined}>
        <h1>
          <span class="brand-mark" aria-hidden="true">+</span> ImmunoGuide
        </h1>
        <p class="muted">Biomarker-guided immunotherapy for sepsis</p>
        {notice ? (
          <p class="notice" role="status">
            {notice}
          </p>
        ) : null}
        <label>
          Username
          <input name="username" autoComplete="username" required value={username} onInput={(e) => setUsername(e.currentTarget.value)} />
        </label>
        <label>
          Password
          <input
            name="password"
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
        </label>
        {error ? (
          <p id="signin-error" class="state state-error" role="alert">
            {error}
          </p>
        ) : null}
        <button type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
