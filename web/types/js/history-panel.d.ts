export function mountHistory(container: any, { server, doc, editor, token, prefix }: {
    server: any;
    doc: any;
    editor: any;
    token: any;
    prefix?: string | undefined;
}): any;
