/** Build dist/ once, as `npm run build` does (tsc, then the CLI bundle): CLI tests spawn the real `autoresearch` binary. */
import { execa } from 'execa';

export default async function setup(): Promise<void> {
  await execa('npx', ['tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
  await execa('node', ['scripts/bundle-cli.mjs'], { stdio: 'inherit' });
}
