/** Build dist/ once: CLI tests spawn the real `autoresearch` binary. */
import { execa } from 'execa';

export default async function setup(): Promise<void> {
  await execa('npx', ['tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
}
