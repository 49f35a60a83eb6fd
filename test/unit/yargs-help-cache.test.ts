// skipUnusedHelpRendering reaches into yargs: these tests fail if a yargs upgrade moves the step,
// and show that help is still rendered where it is shown.
import yargs from 'yargs';
import { describe, expect, it } from 'vitest';
import { skipUnusedHelpRendering } from '../../src/cli/yargs-help-cache.js';

interface Internals {
  getInternalMethods(): { getUsageInstance(): { hasCachedHelpMessage(): boolean } };
}

function parser(argv: string[], ran: string[]) {
  return yargs(argv)
    .scriptName('tool')
    .command('go', 'do it', (y) => y.option('fast', { type: 'boolean', describe: 'quickly' }), (args) => {
      ran.push(`go fast=${String(args['fast'])}`);
    })
    .strict()
    .help()
    .exitProcess(false);
}

describe('skipUnusedHelpRendering', () => {
  it('without it, yargs renders the command help each time the command runs', async () => {
    const ran: string[] = [];
    const p = parser(['go'], ran);
    await p.parseAsync();
    expect(ran).toEqual(['go fast=undefined']);
    expect((p as unknown as Internals).getInternalMethods().getUsageInstance().hasCachedHelpMessage()).toBe(true);
  });

  it('with it, the command runs the same and no help is rendered', async () => {
    const ran: string[] = [];
    const p = parser(['go', '--fast'], ran);
    expect(skipUnusedHelpRendering(p)).toBe(true);
    await p.parseAsync();
    expect(ran).toEqual(['go fast=true']);
    expect((p as unknown as Internals).getInternalMethods().getUsageInstance().hasCachedHelpMessage()).toBe(false);
  });

  it('--help of the command still shows its options', async () => {
    const p = parser(['go', '--help'], []);
    skipUnusedHelpRendering(p);
    let shown = '';
    await p.parseAsync(['go', '--help'], {}, (_err, _argv, output) => {
      shown = output;
    });
    expect(shown).toContain('tool go');
    expect(shown).toContain('--fast');
  });

  it('says so when a parser has no such step', () => {
    expect(skipUnusedHelpRendering({})).toBe(false);
  });
});
