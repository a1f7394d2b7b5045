/** The two storage accounts every local Azurite carries (the stack's and the tests'), so cross-account copies (azure -> soarc) are real. */

/** Azurite's published development account (documented by Microsoft; not a secret). */
export const AZURITE_ACCOUNT = 'devstoreaccount1';
export const AZURITE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
/** A second account on the same instance. */
export const AZURITE_SECOND_ACCOUNT = 'soarcdevstore';
export const AZURITE_SECOND_KEY = Buffer.from('tenant-clone local soarc development account key!').toString('base64');

export function azuriteConnectionString(port: number, account: string, key: string): string {
  return `DefaultEndpointsProtocol=http;AccountName=${account};AccountKey=${key};BlobEndpoint=http://127.0.0.1:${port}/${account};`;
}
