<?php
/**
 * Plugin Name: Moxy purge
 * Description: Tells Moxy which cached REST API answers an edit changed: one soft purge by tag per request, sent after the editor's page is done. Configure MOXY_ADMIN_URL and MOXY_ADMIN_TOKEN in wp-config.php.
 * Version: 1.0.0
 * Requires PHP: 7.4
 * License: Apache-2.0
 *
 * A must-use plugin: copy this file to wp-content/mu-plugins/. No dependencies.
 *
 *   define('MOXY_ADMIN_URL', 'http://127.0.0.1:9090');   // Moxy's admin listener
 *   define('MOXY_ADMIN_TOKEN', '...');                   // its admin token
 *
 * The tags match those examples/wordpress.yaml reads from the API's JSON (docs/recipes/wordpress.md):
 *   post-<id>        a post, page or attachment (its own answer and every list that shows it)
 *   type-<post type> every list of that type (a new post appears in them)
 *   term-<id>        a category or tag (its answer and the posts filed under it)
 *   taxonomy-<name>  every list of that taxonomy's terms
 *   author-<id>      a user (its answer and the posts they wrote)
 *   wordpress        everything (an option that changes every answer, such as the site's name)
 *
 * The purge is soft: answers are marked stale, not removed, so a WordPress that breaks right
 * after a publish still has its last good answer served while Moxy asks again. Failures go to
 * the PHP error log, never to the editor.
 */

if (!defined('ABSPATH')) {
    exit;
}

final class Moxy_Purge
{
    /** @var array<string, true> The tags of this request, sent once at shutdown. */
    private static $tags = [];

    /** Options whose change alters the REST API's answers. */
    const OPTIONS = [
        'blogname', 'blogdescription', 'siteurl', 'home', 'permalink_structure', 'category_base', 'tag_base',
        'posts_per_page', 'date_format', 'time_format', 'timezone_string', 'gmt_offset', 'start_of_week',
        'show_on_front', 'page_on_front', 'page_for_posts', 'default_category', 'WPLANG', 'site_icon',
        'sticky_posts', 'default_comment_status', 'comment_registration', 'thread_comments', 'comments_per_page',
    ];

    /** At most this many tags per purge (Moxy refuses more than 64). */
    const MAX_TAGS = 64;

    public static function register(): void
    {
        add_action('save_post', [self::class, 'post_changed'], 10, 1);
        add_action('deleted_post', [self::class, 'post_changed'], 10, 1);
        add_action('trashed_post', [self::class, 'post_changed'], 10, 1);
        add_action('untrashed_post', [self::class, 'post_changed'], 10, 1);
        add_action('transition_post_status', [self::class, 'status_changed'], 10, 3);
        add_action('edited_term', [self::class, 'term_changed'], 10, 3);
        add_action('created_term', [self::class, 'term_changed'], 10, 3);
        add_action('delete_term', [self::class, 'term_changed'], 10, 3);
        add_action('transition_comment_status', [self::class, 'comment_status_changed'], 10, 3);
        add_action('comment_post', [self::class, 'comment_posted'], 10, 2);
        add_action('edit_comment', [self::class, 'comment_edited'], 10, 1);
        add_action('profile_update', [self::class, 'user_changed'], 10, 1);
        add_action('updated_option', [self::class, 'option_changed'], 10, 1);
        add_action('shutdown', [self::class, 'send'], PHP_INT_MAX);
    }

    public static function add(string $tag): void
    {
        self::$tags[$tag] = true;
    }

    /** A post's own tag, its type's lists, its terms and its author. */
    public static function post_changed($post_id): void
    {
        $post_id = (int) $post_id;
        if ($post_id <= 0 || wp_is_post_revision($post_id) || wp_is_post_autosave($post_id)) {
            return;
        }
        $post = get_post($post_id);
        self::add('post-' . $post_id);
        if (!$post) {
            return;
        }
        self::add('type-' . $post->post_type);
        if ($post->post_author) {
            self::add('author-' . (int) $post->post_author);
        }
        foreach (get_object_taxonomies($post->post_type) as $taxonomy) {
            $terms = wp_get_object_terms($post_id, $taxonomy, ['fields' => 'ids']);
            if (is_array($terms)) {
                foreach ($terms as $term_id) {
                    self::add('term-' . (int) $term_id);
                }
            }
        }
        if ($post->post_parent) {
            self::add('post-' . (int) $post->post_parent);
        }
    }

    public static function status_changed($new_status, $old_status, $post): void
    {
        if ($new_status === $old_status || !($post instanceof WP_Post)) {
            return;
        }
        if ($new_status === 'publish' || $old_status === 'publish') {
            self::post_changed($post->ID);
        }
    }

    public static function term_changed($term_id, $tt_id = 0, $taxonomy = ''): void
    {
        self::add('term-' . (int) $term_id);
        if (is_string($taxonomy) && $taxonomy !== '') {
            self::add('taxonomy-' . $taxonomy);
        }
    }

    public static function comment_status_changed($new_status, $old_status, $comment): void
    {
        if ($comment instanceof WP_Comment && ($new_status === 'approved' || $old_status === 'approved')) {
            self::comment_edited($comment->comment_ID);
        }
    }

    public static function comment_posted($comment_id, $approved): void
    {
        if ($approved === 1 || $approved === '1') {
            self::comment_edited($comment_id);
        }
    }

    public static function comment_edited($comment_id): void
    {
        $comment = get_comment($comment_id);
        if ($comment) {
            self::add('comment-' . (int) $comment->comment_ID);
            self::add('post-' . (int) $comment->comment_post_ID);
        }
    }

    public static function user_changed($user_id): void
    {
        self::add('author-' . (int) $user_id);
    }

    public static function option_changed($option): void
    {
        if (in_array($option, self::OPTIONS, true)) {
            self::add('wordpress');
        }
    }

    /** The form body of the purge: soft=1&tag=a&tag=b… (everything when there are too many tags). */
    public static function body(array $tags): string
    {
        if (count($tags) > self::MAX_TAGS) {
            $tags = ['wordpress'];
        }
        $parts = ['soft=1'];
        foreach ($tags as $tag) {
            $parts[] = 'tag=' . rawurlencode($tag);
        }
        return implode('&', $parts);
    }

    /** Sends the request's tags in one purge, after the editor's answer has gone out. */
    public static function send(): void
    {
        if (!self::$tags) {
            return;
        }
        $tags = array_keys(self::$tags);
        self::$tags = [];
        if (!defined('MOXY_ADMIN_URL') || !defined('MOXY_ADMIN_TOKEN')) {
            error_log('moxy-purge: MOXY_ADMIN_URL and MOXY_ADMIN_TOKEN are not defined in wp-config.php; not purging ' . implode(' ', $tags));
            return;
        }
        // Under PHP-FPM the editor's page is complete before Moxy is asked, so nobody waits on
        // it; elsewhere (mod_php, the CLI) the wait is bounded by a short timeout.
        $finished = function_exists('fastcgi_finish_request') && fastcgi_finish_request();
        $response = wp_remote_post(rtrim(MOXY_ADMIN_URL, '/') . '/purge', [
            'timeout' => $finished ? 5 : 1,
            'redirection' => 0,
            'headers' => [
                'Authorization' => 'Bearer ' . MOXY_ADMIN_TOKEN,
                'Content-Type' => 'application/x-www-form-urlencoded',
            ],
            'body' => self::body($tags),
        ]);
        if (is_wp_error($response)) {
            error_log('moxy-purge: purge of ' . implode(' ', $tags) . ' failed: ' . $response->get_error_message());
            return;
        }
        $code = (int) wp_remote_retrieve_response_code($response);
        if ($code !== 200) {
            error_log('moxy-purge: purge of ' . implode(' ', $tags) . ' answered ' . $code . ': ' . substr(wp_remote_retrieve_body($response), 0, 200));
        }
    }
}

Moxy_Purge::register();
